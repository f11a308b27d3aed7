// `evstore serve`: the health check, liveness and metrics over HTTP, until SIGINT or SIGTERM.

#include <pthread.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "health_probe.hpp"
#include "http_api.hpp"
#include "listen_address.hpp"

namespace evstore::cli {
namespace {

constexpr std::string_view default_listen = "127.0.0.1:8080";
// How often a stop is repeated while the server has not started listening yet.
constexpr std::chrono::milliseconds stop_retry{20};

struct serve_request {
  std::string listen;  // empty: EVSTORE_LISTEN or the default
  health_flags health;
};

// SIGINT and SIGTERM, blocked in the calling thread (and so in every thread it starts) to be
// taken by sigwait() in one thread of our own: no handler runs in an arbitrary thread, and
// stopping the server is ordinary code.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (const int failed = pthread_sigmask(SIG_BLOCK, &signals, nullptr); failed != 0) {
    throw std::runtime_error(
        fmt::format("cannot block SIGINT and SIGTERM: {}", std::strerror(failed)));
  }
  // The mask stays as it is: unblocking it on the way out would deliver a second SIGTERM
  // still pending, and the process would die of it instead of exiting 0.
  return signals;
}

// A thread that waits for SIGINT or SIGTERM and then stops the server.
class signal_stopper {
 public:
  signal_stopper(httplib::Server& server, const sigset_t& signals)
      : server_(server), signals_(signals), thread_([this] { run(); }) {}
  signal_stopper(const signal_stopper&) = delete;
  signal_stopper& operator=(const signal_stopper&) = delete;
  ~signal_stopper() { finish(); }

  // Called once the server has stopped listening: ends the thread (waking it if no signal
  // came) and returns the signal that stopped the server, or 0.
  int finish() {
    {
      std::lock_guard lock(mutex_);
      listening_ended_ = true;
    }
    ended_.notify_all();
    if (thread_.joinable()) {
      // SIGTERM is blocked in that thread too, so it is taken by its sigwait(), not delivered.
      pthread_kill(thread_.native_handle(), SIGTERM);
      thread_.join();
    }
    std::lock_guard lock(mutex_);
    return signal_;
  }

 private:
  void run() {
    int received = 0;
    if (sigwait(&signals_, &received) != 0) {
      return;
    }
    std::unique_lock lock(mutex_);
    if (listening_ended_) {
      return;  // woken by finish()
    }
    signal_ = received;
    std::cout << "received SIG" << sigabbrev_np(received) << ": stopping" << std::endl;
    // stop() does nothing until listen_after_bind() has started: repeat it until it ends.
    while (!listening_ended_) {
      lock.unlock();
      server_.stop();
      lock.lock();
      ended_.wait_for(lock, stop_retry, [this] { return listening_ended_; });
    }
  }

  httplib::Server& server_;
  const sigset_t signals_;
  std::mutex mutex_;
  std::condition_variable ended_;
  bool listening_ended_ = false;  // guarded by mutex_
  int signal_ = 0;                // guarded by mutex_
  std::thread thread_;            // last: it uses the members above
};

listen_address where_to_listen(const context& ctx, const serve_request& request) {
  if (!request.listen.empty()) {
    return parse_listen_address(request.listen, "--listen");
  }
  const auto configured = ctx.config().get("EVSTORE_LISTEN");
  return parse_listen_address(configured.value_or(std::string(default_listen)),
                              ctx.config().origin("EVSTORE_LISTEN"));
}

exit_code serve(const context& ctx, const serve_request& request) {
  // First, before the pool, the server or anything else starts a thread.
  const sigset_t stop_signals = block_stop_signals();
  const auto address = where_to_listen(ctx, request);
  database_probe probe(ctx, request.health);

  httplib::Server server;
  configure_http(server, probe, http_limits{});
  errno = 0;
  int port = address.port;
  if (port == 0) {
    port = server.bind_to_any_port(address.host);
  } else if (!server.bind_to_port(address.host, port)) {
    port = -1;
  }
  if (port < 0) {
    const int why = errno;
    if (why == EADDRINUSE) {
      throw std::runtime_error(fmt::format(
          "cannot listen on {}: {}: another program (another evstore serve?) is using port {}; "
          "stop it, or choose another address with --listen HOST:PORT or EVSTORE_LISTEN (port 0 "
          "picks a free one)",
          address.to_string(), std::strerror(why), address.port));
    }
    throw std::runtime_error(
        fmt::format("cannot listen on {}: {}", address.to_string(),
                    why != 0 ? std::strerror(why) : "the address cannot be bound"));
  }
  const listen_address bound{address.host, static_cast<std::uint16_t>(port)};

  signal_stopper stopper(server, stop_signals);
  // One write, so that a reader never sees half of it.
  const auto base = fmt::format("http://{}", bound.to_string());
  std::cout << fmt::format(
                   "listening on {} (Ctrl-C or SIGTERM stops it)\n"
                   "  health:   {}{}\n  liveness: {}{}\n  metrics:  {}{}\n",
                   base, base, health_path, base, liveness_path, base, metrics_path)
            << std::flush;
  const bool listened = server.listen_after_bind();
  const int signal = stopper.finish();
  if (signal == 0) {
    spdlog::error("http: the server stopped listening on its own");
    return exit_code::failure;
  }
  if (!listened) {
    spdlog::warn("http: the server reported an error while stopping");
  }
  std::cout << "stopped" << std::endl;
  return exit_code::ok;
}

}  // namespace

void add_serve_command(CLI::App& app, command_action& chosen) {
  auto request = std::make_shared<serve_request>();
  auto* command = app.add_subcommand(
      "serve",
      "Serve the database health check (GET /api/health/db), liveness (GET /api/health/live) "
      "and Prometheus metrics (GET /metrics) over HTTP until SIGINT or SIGTERM");
  command->add_option("--listen", request->listen,
                      "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free "
                      "one); overrides EVSTORE_LISTEN");
  add_health_flags(*command, request->health, true);
  command->footer(
      "Once listening, it prints the URLs on stdout. /api/health/db answers 200 (status up or\n"
      "degraded) or 503 (down) with a JSON report; see docs/operations.md. SIGINT (Ctrl-C) or\n"
      "SIGTERM: in-flight requests finish, then exit 0. A port in use: exit 1, saying so.");
  command->callback([&chosen, request] {
    chosen = [request](const context& ctx) { return serve(ctx, *request); };
  });
}

}  // namespace evstore::cli
