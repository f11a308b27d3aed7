// `evstore serve` and `evstore health` on SQLite, run as an operator runs them: the report's
// fields, degraded on pending migrations, caching, metrics, the HTTP edges (404, 405, 413,
// slow clients), the listen address, and stopping on SIGTERM and SIGINT.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "server_process.hpp"

using namespace std::chrono_literals;
using evstore::test::local_client;
using evstore::test::server_process;
using json = nlohmann::json;

namespace {

// A folder with a SQLite database and no other configuration.
struct sandbox {
  evstore::test::temp_dir dir;
  std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"},
                                         {"DATABASE_URL", "sqlite://evstore.db"}};

  evstore::test::process_result run(std::vector<std::string> args) const {
    args.insert(args.begin(), EVSTORE_CLI);
    return evstore::test::run_process(args, env, dir.path());
  }
  void migrate() const {
    const auto result = run({"migrate", "up"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  [[nodiscard]] std::unique_ptr<server_process> serve(std::vector<std::string> args = {}) const {
    args.insert(args.begin(), {EVSTORE_CLI, "serve", "--listen", "127.0.0.1:0"});
    return std::make_unique<server_process>(args, env, dir.path());
  }
};

json get_json(int port, const std::string& path, int expected_status) {
  auto client = local_client(port);
  const auto res = client.Get(path);
  EXPECT_TRUE(res) << "no answer to GET " << path;
  if (!res) {
    return {};
  }
  EXPECT_EQ(res->status, expected_status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  return json::parse(res->body);
}

const std::regex iso8601_utc_micros(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)");

void expect_every_field(const json& report) {
  for (const char* field : {"status", "reason", "backend", "server_version", "latency_ms", "schema",
                            "pool", "checked_at"}) {
    EXPECT_TRUE(report.contains(field)) << field << " missing from " << report.dump();
  }
  for (const char* field : {"current", "latest", "pending"}) {
    EXPECT_TRUE(report["schema"].contains(field)) << field << " missing from " << report.dump();
  }
  for (const char* field : {"size", "max", "idle", "in_use", "waiting"}) {
    EXPECT_TRUE(report["pool"][field].is_number_unsigned())
        << field << " missing from " << report.dump();
  }
  EXPECT_TRUE(report["latency_ms"].is_number()) << report.dump();
  EXPECT_GE(report["latency_ms"].get<double>(), 0.0);
  EXPECT_TRUE(std::regex_match(report["checked_at"].get<std::string>(), iso8601_utc_micros))
      << report["checked_at"];
}

// A loopback TCP connection that sends what it is told and nothing else.
class raw_connection {
 public:
  explicit raw_connection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // The sockets API takes sockaddr*; reinterpret_cast is its documented use.
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  ~raw_connection() { close(fd_); }
  void send_text(const std::string& text) const {
    EXPECT_EQ(send(fd_, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
  }

 private:
  int fd_;
};

}  // namespace

TEST(serve_sqlite, a_migrated_database_is_up_with_every_field_and_sigterm_exits_0) {
  const sandbox box;
  box.migrate();
  auto server = box.serve();
  const auto base = "http://127.0.0.1:" + std::to_string(server->port());
  EXPECT_TRUE(server->out().starts_with("listening on " + base +
                                        " (Ctrl-C or SIGTERM stops it)\n"
                                        "  health:   " +
                                        base + "/api/health/db\n  liveness: " + base +
                                        "/api/health/live\n  metrics:  " + base + "/metrics\n"))
      << server->out();

  const auto report = get_json(server->port(), "/api/health/db", 200);
  expect_every_field(report);
  EXPECT_EQ(report["status"], "up");
  EXPECT_TRUE(report["reason"].is_null());
  EXPECT_EQ(report["backend"], "sqlite");
  EXPECT_TRUE(report["server_version"].get<std::string>().starts_with("3.")) << report.dump();
  EXPECT_EQ(report["schema"]["current"], "evstore:2");
  EXPECT_EQ(report["schema"]["latest"], "evstore:2");
  EXPECT_EQ(report["schema"]["pending"], 0);
  EXPECT_GE(report["pool"]["max"].get<int>(), 1);

  EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
  EXPECT_NE(server->out().find("received SIGTERM: stopping\nstopped\n"), std::string::npos)
      << server->out();
}

TEST(serve_sqlite, sigint_stops_the_server_with_exit_0_too) {
  const sandbox box;
  auto server = box.serve();
  EXPECT_EQ(get_json(server->port(), "/api/health/live", 200)["status"], "up");
  EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

TEST(serve_sqlite, an_unmigrated_database_is_degraded_with_200_and_the_pending_count) {
  const sandbox box;
  auto server = box.serve();
  const auto report = get_json(server->port(), "/api/health/db", 200);
  expect_every_field(report);
  EXPECT_EQ(report["status"], "degraded");
  EXPECT_TRUE(report["schema"]["current"].is_null()) << report.dump();
  EXPECT_EQ(report["schema"]["latest"], "evstore:2");
  EXPECT_EQ(report["schema"]["pending"], 2);
  EXPECT_NE(report["reason"].get<std::string>().find("2 migrations pending"), std::string::npos)
      << report.dump();
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, reports_are_cached_for_the_cache_time_then_checked_again) {
  const sandbox box;
  box.migrate();
  auto server = box.serve({"--health-cache", "1"});
  const auto first = get_json(server->port(), "/api/health/db", 200);
  const auto second = get_json(server->port(), "/api/health/db", 200);
  EXPECT_EQ(first["checked_at"], second["checked_at"]);
  std::this_thread::sleep_for(1200ms);
  const auto third = get_json(server->port(), "/api/health/db", 200);
  EXPECT_NE(first["checked_at"], third["checked_at"]);
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, a_cache_time_of_zero_checks_on_every_request) {
  sandbox box;
  box.migrate();
  box.env["EVSTORE_HEALTH_CACHE"] = "0";
  auto server = box.serve();
  const auto first = get_json(server->port(), "/api/health/db", 200);
  std::this_thread::sleep_for(5ms);
  const auto second = get_json(server->port(), "/api/health/db", 200);
  EXPECT_NE(first["checked_at"], second["checked_at"]);
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, metrics_are_valid_prometheus_text_with_pool_and_health_figures) {
  const sandbox box;
  box.migrate();
  auto server = box.serve();
  auto client = local_client(server->port());
  const auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");

  // Every line is a HELP or TYPE comment or a sample; every sample's family has a TYPE
  // line before it.
  const std::regex type_line(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex help_line(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  const std::regex sample_line(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+-]+|\+Inf|NaN))");
  std::set<std::string> typed;
  std::map<std::string, std::string> samples;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, type_line)) {
      typed.insert(m[1]);
    } else if (std::regex_match(line, m, sample_line)) {
      const std::string name = m[1];
      const bool has_family =
          typed.contains(name) ||
          std::any_of(typed.begin(), typed.end(), [&](const std::string& f) {
            return name == f + "_bucket" || name == f + "_sum" || name == f + "_count";
          });
      EXPECT_TRUE(has_family) << "no # TYPE line before " << line;
      samples[name + m[2].str()] = m[4];
    } else {
      EXPECT_TRUE(std::regex_match(line, help_line)) << "not Prometheus text: " << line;
    }
  }
  for (const char* name :
       {"evstore_pool_size", "evstore_pool_max", "evstore_pool_idle", "evstore_pool_in_use",
        "evstore_pool_waiting", "evstore_pool_connections_created_total",
        "evstore_pool_acquire_seconds_count", "evstore_pool_acquire_seconds_sum",
        "evstore_health_check_duration_seconds_count", "evstore_health_check_timeouts_total",
        "evstore_schema_pending_migrations", "evstore_health_latency_seconds"}) {
    EXPECT_TRUE(samples.contains(name)) << name << " missing from\n" << res->body;
  }
  EXPECT_EQ(samples["evstore_pool_acquire_seconds_bucket{le=\"+Inf\"}"],
            samples["evstore_pool_acquire_seconds_count"]);
  EXPECT_EQ(samples["evstore_health_status{status=\"up\"}"], "1") << res->body;
  EXPECT_EQ(samples["evstore_health_status{status=\"down\"}"], "0") << res->body;
  EXPECT_EQ(samples["evstore_health_checks_total{status=\"up\"}"], "1") << res->body;
  EXPECT_EQ(samples["evstore_schema_pending_migrations"], "0") << res->body;
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, unknown_paths_are_404_and_other_methods_405_with_allow) {
  const sandbox box;
  auto server = box.serve();
  auto client = local_client(server->port());
  const auto missing = client.Get("/api/health/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"], "not found");

  const auto post = client.Post("/api/health/db", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");

  const auto del = client.Delete("/metrics");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);

  const auto head = client.Head("/api/health/live");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, an_oversized_request_is_rejected_and_the_server_still_answers) {
  const sandbox box;
  auto server = box.serve();
  {
    auto client = local_client(server->port());
    const auto res =
        client.Post("/api/health/db", std::string(1024 * 1024, 'x'), "application/octet-stream");
    if (res) {  // else the server closed the connection: rejected too
      EXPECT_EQ(res->status, 413);
    }
    const auto long_uri = client.Get("/api/health/db?" + std::string(20000, 'a'));
    if (long_uri) {
      EXPECT_EQ(long_uri->status, 414);
    }
  }
  {
    raw_connection garbage(server->port());
    garbage.send_text("NOT HTTP AT ALL\r\n\r\n");
  }
  EXPECT_EQ(get_json(server->port(), "/api/health/live", 200)["status"], "up");
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, silent_clients_cannot_hold_every_worker_past_the_read_timeout) {
  const sandbox box;
  auto server = box.serve();
  // More silent connections than there are workers (8), each sending half a request line.
  std::vector<std::unique_ptr<raw_connection>> silent;
  for (int i = 0; i < 12; ++i) {
    silent.push_back(std::make_unique<raw_connection>(server->port()));
    silent.back()->send_text("GET /api/he");
  }
  const auto start = std::chrono::steady_clock::now();
  auto client = local_client(server->port());
  client.set_read_timeout(15s);
  const auto res = client.Get("/api/health/live");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(res) << "no answer while silent clients hold the workers";
  EXPECT_EQ(res->status, 200);
  EXPECT_LT(took, 12s);  // the read timeout is 5 s; two rounds of it at most
  EXPECT_EQ(server->stop(), 0) << server->err();
}

TEST(serve_sqlite, a_bad_listen_address_is_a_configuration_error_exit_3) {
  sandbox box;
  for (const char* bad : {"8080", "localhost:http", "127.0.0.1:65536", ":8080", "::1:8080"}) {
    const auto result = box.run({"serve", "--listen", bad});
    EXPECT_EQ(result.exit_code, 3) << bad << ": " << result.err;
    EXPECT_NE(result.err.find("EVSTORE_LISTEN from --listen"), std::string::npos) << result.err;
  }
  box.env["EVSTORE_LISTEN"] = "127.0.0.1:x";
  const auto result = box.run({"serve"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("EVSTORE_LISTEN from environment"), std::string::npos) << result.err;
}

TEST(serve_sqlite, a_port_in_use_is_refused_with_a_clear_error) {
  const sandbox box;
  auto first = box.serve();
  const auto result = box.run({"serve", "--listen", "127.0.0.1:" + std::to_string(first->port())});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.err.find("cannot listen on 127.0.0.1:" + std::to_string(first->port()) +
                            ": Address already in use"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("choose another address with --listen HOST:PORT or EVSTORE_LISTEN"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
  EXPECT_EQ(get_json(first->port(), "/api/health/live", 200)["status"], "up");
  EXPECT_EQ(first->stop(), 0) << first->err();
}

TEST(serve_sqlite, bad_health_settings_are_refused) {
  sandbox box;
  EXPECT_EQ(box.run({"serve", "--health-timeout", "0"}).exit_code, 2);
  EXPECT_EQ(box.run({"serve", "--health-cache", "-1"}).exit_code, 2);
  box.env["EVSTORE_HEALTH_TIMEOUT"] = "soon";
  const auto result = box.run({"health"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("EVSTORE_HEALTH_TIMEOUT"), std::string::npos) << result.err;
  box.env["EVSTORE_HEALTH_TIMEOUT"] = "0";
  EXPECT_EQ(box.run({"health"}).exit_code, 3);
}

TEST(health_command_sqlite, exits_10_when_degraded_and_0_when_up_printing_the_report) {
  const sandbox box;
  const auto degraded = box.run({"health"});
  EXPECT_EQ(degraded.exit_code, 10) << degraded.err;
  const auto report = json::parse(degraded.out);
  expect_every_field(report);
  EXPECT_EQ(report["status"], "degraded");

  box.migrate();
  const auto up = box.run({"health"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(json::parse(up.out)["status"], "up");
  EXPECT_TRUE(up.err.empty()) << up.err;
}
