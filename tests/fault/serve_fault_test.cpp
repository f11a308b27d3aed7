// `evstore serve` and `evstore health` when the database is unreachable or hangs: down with
// 503 (exit 11) within the timeout, liveness unaffected, recovery once the database is back,
// a clean stop on SIGTERM even with a check in flight, and no password anywhere.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <evstore/redact.hpp>

#include "http_client.hpp"
#include "private_postgresql.hpp"
#include "process.hpp"
#include "server_process.hpp"

using namespace std::chrono_literals;
using evstore::test::local_client;
using evstore::test::server_process;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view password = "c4n:ary@/%pw";

// A PostgreSQL URL to a loopback port where nothing listens (bound, then released).
std::string closed_port_url() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  // The sockets API takes sockaddr*; reinterpret_cast is its documented use.
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  EXPECT_EQ(bind(fd, generic, sizeof(address)), 0);
  EXPECT_EQ(getsockname(fd, generic, &length), 0);
  close(fd);
  return "postgresql://app:" + evstore::percent_encode(password) +
         "@127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/evstore";
}

std::map<std::string, std::string> env_for(const std::string& url) {
  return {{"PATH", "/usr/bin:/bin"}, {"DATABASE_URL", url}, {"EVSTORE_LOG_LEVEL", "debug"}};
}

std::unique_ptr<server_process> serve(const evstore::test::temp_dir& dir, const std::string& url,
                                      std::vector<std::string> args = {}) {
  args.insert(args.begin(), {EVSTORE_CLI, "serve", "--listen", "127.0.0.1:0"});
  return std::make_unique<server_process>(args, env_for(url), dir.path());
}

struct timed_response {
  int status = 0;
  json body;
  steady::duration took{};
};

timed_response get(int port, const std::string& path) {
  auto client = local_client(port);
  const auto start = steady::now();
  const auto res = client.Get(path);
  timed_response out;
  out.took = steady::now() - start;
  EXPECT_TRUE(res) << "no answer to GET " << path;
  if (res) {
    out.status = res->status;
    out.body = json::parse(res->body);
  }
  return out;
}

}  // namespace

TEST(serve_fault, an_unreachable_database_is_down_with_503_and_liveness_still_answers) {
  const evstore::test::temp_dir dir;
  auto server = serve(dir, closed_port_url(), {"--health-timeout", "1"});
  const auto db = get(server->port(), "/api/health/db");
  EXPECT_EQ(db.status, 503) << db.body.dump();
  EXPECT_EQ(db.body["status"], "down");
  EXPECT_EQ(db.body["backend"], "postgresql");
  const auto reason = db.body["reason"].get<std::string>();
  EXPECT_TRUE(reason.starts_with("connection error: ")) << reason;
  EXPECT_NE(reason.find("Connection refused"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("postgresql://"), std::string::npos) << reason;
  EXPECT_TRUE(db.body["latency_ms"].is_null());
  EXPECT_TRUE(db.body["schema"].is_null());
  EXPECT_LT(db.took, 2s);

  const auto live = get(server->port(), "/api/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body["status"], "up");

  auto client = local_client(server->port());
  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("evstore_health_status{status=\"down\"} 1"), std::string::npos)
      << metrics->body;

  EXPECT_EQ(server->stop(), 0) << server->err();
  const auto seen = db.body.dump() + metrics->body + server->out() + server->err();
  EXPECT_EQ(evstore::redact(seen, password), seen) << "password leaked: " << seen;
}

TEST(serve_fault, health_command_exits_11_when_the_database_is_unreachable) {
  const evstore::test::temp_dir dir;
  const auto result =
      evstore::test::run_process({EVSTORE_CLI, "health"}, env_for(closed_port_url()), dir.path());
  EXPECT_EQ(result.exit_code, 11) << result.err;
  EXPECT_EQ(json::parse(result.out)["status"], "down");
  EXPECT_LT(result.elapsed, 3s);
  const auto seen = result.out + result.err;
  EXPECT_EQ(evstore::redact(seen, password), seen) << "password leaked: " << seen;
}

TEST(serve_fault, a_hung_database_is_down_within_the_timeout_and_up_again_once_it_resumes) {
  evstore::test::private_postgresql database;
  const evstore::test::temp_dir dir;
  ASSERT_EQ(evstore::test::run_process({EVSTORE_CLI, "migrate", "up"}, env_for(database.url()),
                                       dir.path())
                .exit_code,
            0);
  auto server = serve(dir, database.url(), {"--health-cache", "0"});
  EXPECT_EQ(get(server->port(), "/api/health/db").body["status"], "up");

  database.hang();
  // Probes come faster than the timeout: each still answers within it.
  for (int i = 0; i < 3; ++i) {
    const auto db = get(server->port(), "/api/health/db");
    EXPECT_EQ(db.status, 503) << db.body.dump();
    EXPECT_TRUE(db.body["reason"].get<std::string>().starts_with("timed out")) << db.body.dump();
    EXPECT_LT(db.took, 3s);
  }
  // Liveness needs no database.
  EXPECT_LT(get(server->port(), "/api/health/live").took, 500ms);
  database.resume();

  // The connection that timed out was discarded; a new one is up within a few probes.
  bool recovered = false;
  for (int i = 0; i < 20 && !recovered; ++i) {
    recovered = get(server->port(), "/api/health/db").status == 200;
    if (!recovered) {
      std::this_thread::sleep_for(250ms);
    }
  }
  EXPECT_TRUE(recovered);
  EXPECT_EQ(server->stop(), 0) << server->err();
  const auto seen = server->out() + server->err();
  EXPECT_EQ(evstore::redact(seen, database.password()), seen) << "password leaked: " << seen;
}

TEST(serve_fault, sigterm_lets_a_request_in_flight_finish_then_exits_0) {
  evstore::test::private_postgresql database;
  const evstore::test::temp_dir dir;
  auto server = serve(dir, database.url(), {"--health-timeout", "2"});
  database.hang();
  // A probe that will wait for the hung database, and SIGTERM while it waits.
  auto probe = std::async(std::launch::async,
                          [port = server->port()] { return get(port, "/api/health/db"); });
  std::this_thread::sleep_for(500ms);
  const auto stop_start = steady::now();
  const int code = server->stop(SIGTERM);
  const auto stop_took = steady::now() - stop_start;
  const auto answered = probe.get();
  database.resume();
  EXPECT_EQ(code, 0) << server->err();
  EXPECT_EQ(answered.status, 503) << answered.body.dump();
  EXPECT_LT(stop_took, 8s);
}
