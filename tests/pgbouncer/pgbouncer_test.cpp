// evstore through a real PgBouncer 1.18 in transaction pooling mode, whose server pool (2) is
// smaller than evstore's, in front of the test server (the test command starts both:
// EVSTORE_TEST_PGBOUNCER_URL): the conformance suites, unchanged, and what only a pooler makes
// happen. Migrations go to the server directly (direct_url), as the pooler mode requires.

#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/error.hpp>
#include <evstore/health.hpp>
#include <evstore/store.hpp>

#include <evstore/conformance/migrator_suite.hpp>
#include <evstore/conformance/native_statement_suite.hpp>
#include <evstore/conformance/repository_suite.hpp>

#include "fresh_database.hpp"
#include "process.hpp"

namespace {

using namespace std::chrono_literals;

// `direct`'s database through the pooler (its wildcard entry reaches every database of the
// test server), declaring the transaction-mode pooler, with evstore's parameters `extra`.
evstore::database_url through_pooler(const evstore::database_url& direct,
                                     std::vector<std::pair<std::string, std::string>> extra = {}) {
  auto url = evstore::parse_database_url(evstore::test::required_env("EVSTORE_TEST_PGBOUNCER_URL"));
  url.database = direct.database;
  url.params = {{"pooler", "transaction"}};
  url.params.insert(url.params.end(), extra.begin(), extra.end());
  return url;
}

class pooled_database final : public evstore::conformance::database_handle {
 public:
  [[nodiscard]] std::string url() const override {
    return through_pooler(database_.url()).text_with_password();
  }
  [[nodiscard]] std::string direct_url() const override {
    return database_.url().text_with_password();
  }
  [[nodiscard]] const evstore::database_url& direct() const { return database_.url(); }

 private:
  evstore::test::fresh_postgresql_database database_{"pgbouncer"};
};

// A store through the pooler on `database`, migrated through its direct URL.
std::unique_ptr<evstore::store> pooled_store(
    const pooled_database& database, std::vector<std::pair<std::string, std::string>> extra = {}) {
  evstore::store_options options;
  options.direct_url = database.direct();
  auto store = evstore::store::open(through_pooler(database.direct(), std::move(extra)), options);
  (void)store->migrate();
  return store;
}

evstore::connection direct_connection(const pooled_database& database) {
  return evstore::connection::open(evstore::test::default_plugins(), database.direct(), {});
}

std::map<std::string, std::string> pooled_environment(const pooled_database& database) {
  return {{"DATABASE_URL", database.url()}};
}

}  // namespace

using evstore::conformance::migrator_conformance;
using evstore::conformance::native_statement_conformance;
using evstore::conformance::repository_conformance;

// The backend is PostgreSQL (the suites compare it with what errors name); the instances are
// named pgbouncer/....
const evstore::conformance::backend_context pgbouncer_context{
    .name = "postgresql",
    .fresh_database = [] { return std::make_unique<pooled_database>(); },
    .capabilities = {evstore::conformance::capability::transactional_ddl,
                     evstore::conformance::capability::skip_locked},
    .evstore_command = EVSTORE_CLI};

INSTANTIATE_TEST_SUITE_P(pgbouncer, migrator_conformance, ::testing::Values(pgbouncer_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(pgbouncer, repository_conformance, ::testing::Values(pgbouncer_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(pgbouncer, native_statement_conformance,
                         ::testing::Values(pgbouncer_context),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(pgbouncer, connecting_without_declaring_the_pooler_fails_with_the_setting_to_make) {
  const pooled_database database;
  auto url = through_pooler(database.direct());
  url.params.clear();
  try {
    (void)evstore::open_connection(evstore::test::default_plugins(), url, {});
    FAIL() << "PgBouncer refuses the startup parameter options";
  } catch (const evstore::connection_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("unsupported startup parameter: options"), std::string::npos) << message;
    EXPECT_NE(message.find("set pooler=transaction in the URL or EVSTORE_POOLER=transaction"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find(evstore::test::required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD")),
              std::string::npos);
  }
}

TEST(pgbouncer, a_statement_past_statement_timeout_fails_and_the_setting_ends_with_it) {
  const pooled_database database;
  auto store = pooled_store(database, {{"statement_timeout", "0.3"}});
  auto direct = direct_connection(database);
  direct.execute(
      "CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
      "'BEGIN PERFORM pg_sleep(5); RETURN NEW; END'");
  direct.execute(
      "CREATE TRIGGER slow BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION slow_insert()");
  const evstore::new_event slow{.title = "slow", .start_time = evstore::timestamp{}};

  // A single statement, outside any transaction, and one inside store.transaction.
  for (const bool in_transaction : {false, true}) {
    const auto start = std::chrono::steady_clock::now();
    try {
      if (in_transaction) {
        store->transaction([&](evstore::transaction& tx) { (void)tx.events().create(slow); });
      } else {
        (void)store->events().create(slow);
      }
      FAIL() << "the trigger sleeps past statement_timeout";
    } catch (const evstore::timeout_error& e) {
      EXPECT_EQ(e.native_code(), "57014") << e.what();  // query_canceled
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s) << "in transaction: " << in_transaction;
  }
  EXPECT_EQ(store->events().count({}), 0);

  // The setting was local to those transactions: the pooler's server connections, shared by
  // every client, still have the server's default.
  auto plain = evstore::open_connection(evstore::test::default_plugins(),
                                        through_pooler(database.direct()), {});
  for (int i = 0; i < 4; ++i) {
    std::string timeout;
    plain.session() << "SHOW statement_timeout", soci::into(timeout);
    EXPECT_EQ(timeout, "0");
  }
}

TEST(pgbouncer, eight_migrators_through_the_pooler_apply_each_migration_once_in_one_transaction) {
  const pooled_database database;
  const evstore::test::temp_dir app;
  std::ofstream(app.path() / "0001_tags.up.sql") << "CREATE TABLE tags (id BIGINT PRIMARY KEY);";
  const std::vector<std::string> up{EVSTORE_CLI, "migrate", "--migrations-dir", app.path().string(),
                                    "up"};
  constexpr int runners = 8;
  std::vector<evstore::test::process_result> results(runners);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back(
        [&] { result = evstore::test::run_process(up, pooled_environment(database), app.path()); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int applied = 0;
  for (const auto& result : results) {
    EXPECT_EQ(result.exit_code, 0) << result.err;
    for (std::size_t at = result.out.find("applied "); at != std::string::npos;
         at = result.out.find("applied ", at + 1)) {
      ++applied;
    }
  }
  EXPECT_EQ(applied, 3) << "evstore:1, evstore:2 and app:1, each by one runner";
  auto direct = direct_connection(database);
  int rows = 0;
  direct.session() << "SELECT COUNT(*) FROM evstore_schema_migrations", soci::into(rows);
  EXPECT_EQ(rows, 3);
}

TEST(pgbouncer, migrate_through_the_pooler_refuses_what_needs_a_direct_url_and_applies_nothing) {
  const pooled_database database;
  const evstore::test::temp_dir app;
  std::ofstream(app.path() / "0001_tags.up.sql") << "CREATE TABLE tags (id BIGINT PRIMARY KEY);";
  std::ofstream(app.path() / "0002_title_index.up.sql")
      << "-- evstore:no-transaction\nCREATE INDEX CONCURRENTLY events_title ON events (title);\n";
  const auto migrate = [&](std::vector<std::string> arguments) {
    std::vector<std::string> argv{EVSTORE_CLI, "migrate", "--migrations-dir", app.path().string()};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return evstore::test::run_process(argv, pooled_environment(database), app.path());
  };
  const auto refused = migrate({"up"});
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_NE(refused.err.find("app:2 ("), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("0002_title_index.up.sql) runs without a transaction"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("apply it through EVSTORE_DIRECT_URL (or --direct-url)"),
            std::string::npos)
      << refused.err;
  auto direct = direct_connection(database);
  int tables = -1;
  direct.session() << "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' "
                      "AND tablename <> 'evstore_schema_migrations'",
      soci::into(tables);
  EXPECT_EQ(tables, 0) << "nothing of the run was applied";

  const auto applied = migrate({"up", "--direct-url", database.direct_url()});
  EXPECT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_NE(applied.out.find("applied app:2 title_index"), std::string::npos) << applied.out;

  const auto down = migrate({"down"});
  EXPECT_EQ(down.exit_code, 7) << down.err;
  EXPECT_NE(down.err.find("reverting a migration needs a direct connection"), std::string::npos)
      << down.err;
}

TEST(pgbouncer, health_and_metrics_name_the_pooler_mode) {
  const pooled_database database;
  (void)pooled_store(database);
  const evstore::test::temp_dir cwd;
  const auto health =
      evstore::test::run_process({EVSTORE_CLI, "health"}, pooled_environment(database), cwd.path());
  EXPECT_EQ(health.exit_code, 0) << health.out << health.err;
  const auto report = nlohmann::json::parse(health.out);
  EXPECT_EQ(report.at("pooler"), "transaction");
  EXPECT_EQ(report.at("status"), "up");
}

TEST(pgbouncer, four_processes_of_eight_threads_through_a_pool_of_two_see_no_error) {
  const pooled_database database;
  (void)pooled_store(database);
  const evstore::test::temp_dir cwd;
  auto env = pooled_environment(database);
  env.emplace("EVSTORE_POOL_MAX", "8");
  env.emplace("EVSTORE_ENV", "production");
  constexpr int workers = 4;
  std::vector<int> pids;
  for (int w = 0; w < workers; ++w) {
    pids.push_back(evstore::test::start_process(
        {EVSTORE_LOAD_WORKER, std::to_string(w), "8", "5"}, env, cwd.path(),
        cwd.path() / ("out" + std::to_string(w)), cwd.path() / ("err" + std::to_string(w))));
  }
  long long committed = 0;
  for (int w = 0; w < workers; ++w) {
    int status = 0;
    ASSERT_EQ(waitpid(pids[static_cast<std::size_t>(w)], &status, 0),
              pids[static_cast<std::size_t>(w)]);
    const auto out = evstore::test::read_text(cwd.path() / ("out" + std::to_string(w)));
    EXPECT_EQ(evstore::test::exit_code_of(status), 0)
        << "worker " << w << ": "
        << evstore::test::read_text(cwd.path() / ("err" + std::to_string(w)));
    ASSERT_TRUE(out.starts_with("committed ")) << out;
    committed += std::stoll(out.substr(std::string("committed ").size()));
  }
  EXPECT_GE(committed, workers * 8) << "every thread committed at least one round";
  // Every acknowledged transaction is stored once, whole: nothing lost, nothing doubled.
  auto direct = direct_connection(database);
  long long events = 0;
  long long media = 0;
  direct.session() << "SELECT COUNT(*) FROM events WHERE title LIKE 'load %'", soci::into(events);
  direct.session() << "SELECT COUNT(*) FROM media", soci::into(media);
  EXPECT_EQ(events, committed);
  EXPECT_EQ(media, committed * 20);
}
