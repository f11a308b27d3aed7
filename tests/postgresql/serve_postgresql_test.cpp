// `evstore serve` and `evstore health` against the throw-away PostgreSQL server: the full
// report, and no password in any response, log line or output.

#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <evstore/redact.hpp>

#include "fresh_database.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "server_process.hpp"

using evstore::test::local_client;
using evstore::test::required_env;
using evstore::test::server_process;
using json = nlohmann::json;

namespace {

std::map<std::string, std::string> env_for(const std::string& url) {
  // Debug logging: every log line the server writes is searched for the password too.
  return {{"PATH", "/usr/bin:/bin"}, {"DATABASE_URL", url}, {"EVSTORE_LOG_LEVEL", "debug"}};
}

evstore::test::process_result run(const evstore::test::temp_dir& dir, const std::string& url,
                                  std::vector<std::string> args) {
  args.insert(args.begin(), EVSTORE_CLI);
  return evstore::test::run_process(args, env_for(url), dir.path());
}

std::unique_ptr<server_process> serve(const evstore::test::temp_dir& dir, const std::string& url) {
  return std::make_unique<server_process>(
      std::vector<std::string>{EVSTORE_CLI, "serve", "--listen", "127.0.0.1:0"}, env_for(url),
      dir.path());
}

void expect_no_password(const std::string& text) {
  const auto password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(evstore::redact(text, password), text) << "password leaked: " << text;
}

}  // namespace

TEST(serve_postgresql, a_migrated_database_is_up_with_every_field) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database db("serve_up");
  const auto url = db.url().text_with_password();
  const auto migrated = run(dir, url, {"migrate", "up"});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;

  auto server = serve(dir, url);
  auto client = local_client(server->port());
  const auto res = client.Get("/api/health/db");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  const auto report = json::parse(res->body);
  EXPECT_EQ(report["status"], "up") << report.dump();
  EXPECT_TRUE(report["reason"].is_null());
  EXPECT_EQ(report["backend"], "postgresql");
  EXPECT_TRUE(report["server_version"].get<std::string>().starts_with("15.")) << report.dump();
  EXPECT_TRUE(report["latency_ms"].is_number());
  EXPECT_GT(report["latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(report["schema"],
            json({{"current", "evstore:2"}, {"latest", "evstore:2"}, {"pending", 0}}));
  for (const char* field : {"size", "max", "idle", "in_use", "waiting"}) {
    EXPECT_TRUE(report["pool"][field].is_number_unsigned()) << field;
  }
  EXPECT_TRUE(report["checked_at"].is_string());
  EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
}

TEST(serve_postgresql, no_response_log_line_or_output_contains_the_password) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database db("serve_secret");
  const auto url = db.url().text_with_password();
  std::string seen;

  {
    auto server = serve(dir, url);  // unmigrated: degraded
    auto client = local_client(server->port());
    for (const char* path : {"/api/health/db", "/api/health/live", "/metrics", "/nope"}) {
      const auto res = client.Get(path);
      ASSERT_TRUE(res) << path;
      seen += res->body;
      for (const auto& [name, value] : res->headers) {
        seen += name + ": " + value + "\n";
      }
    }
    EXPECT_EQ(server->stop(), 0) << server->err();
    seen += server->out() + server->err();
    EXPECT_NE(server->err().find("http: GET /api/health/db"), std::string::npos)
        << "debug logging is on: " << server->err();
  }
  const auto health = run(dir, url, {"health"});
  EXPECT_EQ(health.exit_code, 10) << health.err;
  EXPECT_EQ(json::parse(health.out)["status"], "degraded");
  seen += health.out + health.err;

  // A wrong password: the server says so, and the reason shows neither password nor URL.
  auto wrong = db.url();
  wrong.password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD") + "-wrong";
  const auto refused = run(dir, wrong.text_with_password(), {"health"});
  EXPECT_EQ(refused.exit_code, 11) << refused.err;
  const auto reason = json::parse(refused.out)["reason"].get<std::string>();
  EXPECT_NE(reason.find("password authentication failed"), std::string::npos) << reason;
  EXPECT_EQ(reason.find("postgresql://"), std::string::npos) << reason;
  EXPECT_EQ(evstore::redact(refused.out + refused.err, wrong.password), refused.out + refused.err);
  seen += refused.out + refused.err;

  expect_no_password(seen);
  EXPECT_EQ(seen.find(db.url().text_with_password()), std::string::npos);
}

TEST(health_command_postgresql, exits_0_on_a_migrated_database_and_10_on_an_empty_one) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database db("health_cli");
  const auto url = db.url().text_with_password();
  const auto empty = run(dir, url, {"health"});
  EXPECT_EQ(empty.exit_code, 10) << empty.err;
  EXPECT_EQ(json::parse(empty.out)["schema"]["pending"], 2);
  ASSERT_EQ(run(dir, url, {"migrate", "up"}).exit_code, 0);
  const auto up = run(dir, url, {"health"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(json::parse(up.out)["status"], "up");
  expect_no_password(empty.out + empty.err + up.out + up.err);
}
