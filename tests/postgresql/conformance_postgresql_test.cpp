// The conformance suites (migrations, repositories) on PostgreSQL, and what only PostgreSQL does:
// the advisory lock with its timeout and holder, and statements that refuse a transaction.

#include <fstream>

#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/migrator.hpp>

#include <evstore/conformance/migrator_suite.hpp>
#include <evstore/conformance/native_statement_suite.hpp>
#include <evstore/conformance/repository_suite.hpp>

#include "fresh_database.hpp"
#include "process.hpp"

namespace {

class postgresql_database final : public evstore::conformance::database_handle {
 public:
  [[nodiscard]] std::string url() const override { return database_.url().text_with_password(); }

 private:
  evstore::test::fresh_postgresql_database database_{"migrator"};
};

evstore::connection open(const evstore::conformance::database_handle& database) {
  return evstore::connection::open(evstore::test::default_plugins(),
                                   evstore::parse_database_url(database.url()), {});
}

}  // namespace

using evstore::conformance::migrator_conformance;
using evstore::conformance::native_statement_conformance;
using evstore::conformance::repository_conformance;

const evstore::conformance::backend_context postgresql_context{
    .name = "postgresql",
    .fresh_database = [] { return std::make_unique<postgresql_database>(); },
    .capabilities = {evstore::conformance::capability::transactional_ddl,
                     evstore::conformance::capability::skip_locked},
    .evstore_command = EVSTORE_CLI};

INSTANTIATE_TEST_SUITE_P(postgresql, migrator_conformance, ::testing::Values(postgresql_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(postgresql, repository_conformance, ::testing::Values(postgresql_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(postgresql, native_statement_conformance,
                         ::testing::Values(postgresql_context),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(postgresql_migrator, waits_for_the_lock_then_names_its_holder_when_it_times_out) {
  const postgresql_database database;
  auto holder = open(database);
  auto conn = open(database);
  // evstore's migration lock key, 0x657673746f72654d ("evstoreM").
  holder.execute("SELECT pg_advisory_lock(7311157989005747533)");
  evstore::migrator_options options;
  options.lock_timeout = std::chrono::milliseconds(300);
  evstore::migrator engine(conn, {}, options);
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)engine.up();
    FAIL() << "the lock is held";
  } catch (const evstore::migration_error& e) {
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, std::chrono::milliseconds(250));
    EXPECT_LT(waited, std::chrono::seconds(2));
    const std::string message = e.what();
    EXPECT_NE(message.find("another migrator holds the migration lock (pid "), std::string::npos)
        << message;
    EXPECT_NE(message.find("application \"evstore\""), std::string::npos) << message;
  }
  EXPECT_TRUE(engine.status().lock_holder.has_value());
  holder.execute("SELECT pg_advisory_unlock_all()");
  EXPECT_FALSE(engine.status().lock_holder.has_value());
  EXPECT_EQ(engine.up().size(), 2U) << "free again";
}

TEST(postgresql_migrator, a_no_transaction_migration_can_create_an_index_concurrently) {
  const postgresql_database database;
  auto conn = open(database);
  const evstore::test::temp_dir app;
  std::ofstream(app.path() / "0001_concurrent_index.up.sql")
      << "-- evstore:no-transaction\n"
         "CREATE INDEX CONCURRENTLY events_title_idx ON events (title);\n";
  std::ofstream(app.path() / "0002_in_a_transaction.up.sql")
      << "CREATE INDEX CONCURRENTLY events_created_idx ON events (created_at);\n";
  evstore::migrator engine(conn, evstore::read_migrations(app.path()), {});
  try {
    (void)engine.up();
    FAIL() << "CREATE INDEX CONCURRENTLY refuses a transaction block";
  } catch (const evstore::migration_error& e) {
    EXPECT_NE(std::string(e.what()).find("0002_in_a_transaction.up.sql"), std::string::npos)
        << e.what();
    EXPECT_EQ(e.native_code(), "25001");  // active_sql_transaction
  }
  int indexes = 0;
  conn.session() << "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'events_title_idx'",
      soci::into(indexes);
  EXPECT_EQ(indexes, 1);
}

TEST(postgresql_migrator, releasing_a_lock_this_session_does_not_hold_is_reported_not_ignored) {
  // What happens behind a transaction-mode pooler when the unlock lands on another server
  // connection than the lock: pg_advisory_unlock answers false, with only a WARNING.
  const postgresql_database database;
  auto conn = open(database);
  try {
    conn.backend().sql_dialect()->unlock_migrations(conn.session());
    FAIL() << "this session holds no migration lock";
  } catch (const evstore::migration_error& e) {
    EXPECT_NE(std::string(e.what()).find("this session did not hold it"), std::string::npos)
        << e.what();
  }
}
