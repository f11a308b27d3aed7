#include "http_api.hpp"

#include <sys/socket.h>

#include <exception>
#include <string>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <evstore/prometheus.hpp>

#include "bounded_task_queue.hpp"

namespace evstore::cli {
namespace {

constexpr const char* json_type = "application/json";
constexpr const char* prometheus_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* allowed_methods = "GET, HEAD";

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 408:
      return "request timeout";
    case 411:
      return "length required";
    case 413:
      return "payload too large";
    case 414:
      return "URI too long";
    case 416:
      return "range not satisfiable";
    case 500:
      return "internal server error";
    default:
      return "error";
  }
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), json_type);
}

void method_not_allowed(const httplib::Request&, httplib::Response& res) {
  res.set_header("Allow", allowed_methods);
  send_json(res, 405, {{"error", reason_phrase(405)}});
}

}  // namespace

void configure_http(httplib::Server& server, database_probe& probe, const http_limits& limits) {
  server.new_task_queue = [threads = limits.worker_threads, queued = limits.max_queued] {
    // cpp-httplib takes ownership of the queue it is given (a std::unique_ptr inside).
    return new bounded_task_queue(threads, queued);
  };
  // cpp-httplib's default sets SO_REUSEPORT, with which a second server binds the same port
  // and silently takes half the connections: SO_REUSEADDR only, so that a port in use is an
  // error while a restart still binds past connections in TIME_WAIT.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.set_payload_max_length(limits.max_payload);
  server.set_read_timeout(limits.read_timeout);
  server.set_write_timeout(limits.write_timeout);
  server.set_keep_alive_timeout(limits.keep_alive_timeout.count());
  server.set_keep_alive_max_count(limits.keep_alive_max_requests);

  server.Get(health_path, [&probe](const httplib::Request&, httplib::Response& res) {
    const auto report = probe.checker().check();
    send_json(res, report.status == health_status::down ? 503 : 200, report.to_json());
  });
  server.Get(liveness_path, [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "up"}});
  });
  server.Get(metrics_path, [&probe](const httplib::Request&, httplib::Response& res) {
    const auto report = probe.checker().check();
    res.set_header("Cache-Control", "no-store");
    res.set_content(prometheus_text(probe.store().metrics(), probe.store().statistics(),
                                    probe.checker().statistics(), report),
                    prometheus_type);
  });
  // Other methods on the served paths: 405, after cpp-httplib has read (at most
  // max_payload of) the body, so that a keep-alive connection stays in step.
  for (const char* path : {health_path, liveness_path, metrics_path}) {
    server.Post(path, method_not_allowed);
    server.Put(path, method_not_allowed);
    server.Patch(path, method_not_allowed);
    server.Delete(path, method_not_allowed);
    server.Options(path, method_not_allowed);
  }

  // Every other status >= 400 that has no body yet (404, 413, 400 ...) gets a JSON one.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      send_json(res, res.status, {{"error", reason_phrase(res.status)}});
    }
  });
  server.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr failure) {
        try {
          std::rethrow_exception(failure);
        } catch (const std::exception& e) {
          spdlog::error("http: {} {} failed: {}", req.method, req.path, e.what());
        } catch (...) {
          spdlog::error("http: {} {} failed", req.method, req.path);
        }
        send_json(res, 500, {{"error", reason_phrase(500)}});
      });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("http: {} {} from {} -> {}", req.method, req.path, req.remote_addr, res.status);
  });
}

}  // namespace evstore::cli
