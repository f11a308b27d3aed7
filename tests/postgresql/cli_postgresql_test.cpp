// The evstore command against the throw-away PostgreSQL server.

#include <map>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <nlohmann/json.hpp>

#include <evstore/connection.hpp>
#include <evstore/redact.hpp>

#include "fresh_database.hpp"
#include "process.hpp"

using evstore::test::required_env;
using evstore::test::run_process;

TEST(cli_postgresql, ping_reaches_the_test_server_through_database_url) {
  const evstore::test::temp_dir dir;
  const auto url = required_env("EVSTORE_TEST_POSTGRESQL_URL");
  const auto password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  const auto result = run_process({EVSTORE_CLI, "ping"}, {{"DATABASE_URL", url}}, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ok: postgresql 15."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(":***@"), std::string::npos) << "URL shown redacted: " << result.out;
  const auto output = result.out + result.err;
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
}

TEST(cli_postgresql, ping_with_a_wrong_password_exits_5_without_showing_it) {
  const evstore::test::temp_dir dir;
  auto url = required_env("EVSTORE_TEST_POSTGRESQL_URL");
  const auto password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  const auto encoded = evstore::percent_encode(password);
  const auto at = url.find(encoded);
  ASSERT_NE(at, std::string::npos) << "the test URL carries the password percent-encoded";
  const std::string wrong = "Wr0ng%3A%40%2F%25pass";
  url.replace(at, encoded.size(), wrong);
  const auto result = run_process({EVSTORE_CLI, "--database-url", url, "ping"}, {}, dir.path());
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_NE(result.err.find("password authentication failed"), std::string::npos) << result.err;
  const auto output = result.out + result.err;
  EXPECT_EQ(evstore::redact(output, "Wr0ng:@/%pass"), output) << "password leaked: " << output;
  EXPECT_EQ(output.find(wrong), std::string::npos) << "password leaked: " << output;
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
}

namespace {

std::string everything(const evstore::test::process_result& result) {
  return result.out + result.err;
}

void expect_no_password(const std::string& output) {
  const auto password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
  EXPECT_EQ(output.find(evstore::percent_encode(password)), std::string::npos) << output;
}

}  // namespace

TEST(cli_postgresql, stats_without_the_extension_exits_13_with_the_exact_statement_to_run) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database db("stats_off");
  const std::map<std::string, std::string> env{{"DATABASE_URL", db.url().text_with_password()}};
  const auto result = run_process({EVSTORE_CLI, "stats"}, env, dir.path());
  EXPECT_EQ(result.exit_code, 13) << everything(result);
  EXPECT_NE(result.err.find("statement statistics are not enabled on postgresql://"),
            std::string::npos)
      << result.err;
  // The test server preloads the library, so only the extension is missing.
  EXPECT_NE(result.err.find("the server loads pg_stat_statements, but the extension is not "
                            "created in this database: as a superuser, connected to database \"" +
                            db.name() + "\", run:\n    CREATE EXTENSION pg_stat_statements;"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;

  const auto json = run_process({EVSTORE_CLI, "stats", "--json"}, env, dir.path());
  EXPECT_EQ(json.exit_code, 13);
  const auto report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["status"], "not_enabled");
  EXPECT_NE(report["advice"].get<std::string>().find("CREATE EXTENSION pg_stat_statements;"),
            std::string::npos);
  expect_no_password(everything(result) + everything(json));

  // It only reads: the extension is still not there.
  auto conn = evstore::connection::open(evstore::test::default_plugins(), db.url(), {});
  long long created = -1;
  conn.session() << "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'",
      soci::into(created);
  EXPECT_EQ(created, 0);
}

TEST(cli_postgresql, stats_lists_the_top_statements_of_this_database_by_total_time) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database db("stats_on");
  {
    auto conn = evstore::connection::open(evstore::test::default_plugins(), db.url(), {});
    conn.execute("CREATE EXTENSION pg_stat_statements");
  }
  const std::map<std::string, std::string> env{{"DATABASE_URL", db.url().text_with_password()}};
  ASSERT_EQ(run_process({EVSTORE_CLI, "migrate", "up"}, env, dir.path()).exit_code, 0);
  const auto seeded = run_process({EVSTORE_CLI, "seed", "--events", "3"}, env, dir.path());
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;

  const auto table = run_process({EVSTORE_CLI, "stats", "--top", "3"}, env, dir.path());
  EXPECT_EQ(table.exit_code, 0) << everything(table);
  EXPECT_NE(table.out.find("top 3 statement(s) by total execution time on postgresql://"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("(pg_stat_statements):\n     calls     total ms    mean ms       rows "
                           " query\n"),
            std::string::npos)
      << table.out;

  const auto json = run_process({EVSTORE_CLI, "stats", "--json", "--top", "50"}, env, dir.path());
  ASSERT_EQ(json.exit_code, 0) << everything(json);
  const auto report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["status"], "available");
  EXPECT_EQ(report["source"], "pg_stat_statements");
  const auto& statements = report["statements"];
  ASSERT_FALSE(statements.empty());
  bool seen_insert = false;
  double previous = statements[0]["total_ms"].get<double>();
  for (const auto& s : statements) {
    EXPECT_GE(s["calls"].get<std::uint64_t>(), 1U) << s.dump();
    EXPECT_LE(s["total_ms"].get<double>(), previous) << "largest total first";
    previous = s["total_ms"].get<double>();
    seen_insert = seen_insert || s["query"].get<std::string>().starts_with("INSERT INTO events");
  }
  EXPECT_TRUE(seen_insert) << "the seed's inserts ran in this database: " << statements.dump();
  expect_no_password(everything(table) + everything(json));
}

TEST(cli_postgresql, log_queries_logs_statements_without_values_or_the_password) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database db("log_queries");
  const std::map<std::string, std::string> env{{"DATABASE_URL", db.url().text_with_password()}};
  const auto migrated =
      run_process({EVSTORE_CLI, "--log-queries", "migrate", "up"}, env, dir.path());
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  const auto seeded =
      run_process({EVSTORE_CLI, "--log-queries", "seed", "--events", "1"}, env, dir.path());
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  const std::regex insert(
      R"(query on postgresql: \d+\.\d{3} ms, \d+ row\(s\) \[\d+ parameter\(s\), values not )"
      R"(logged\]: INSERT INTO events)");
  EXPECT_TRUE(std::regex_search(seeded.err, insert)) << seeded.err;
  EXPECT_EQ(seeded.err.find("evstore 1.0 Launch Party"), std::string::npos) << seeded.err;
  expect_no_password(everything(migrated) + everything(seeded));
}
