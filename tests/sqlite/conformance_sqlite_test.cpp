// The conformance suites (migrations, repositories) on SQLite, and what only SQLite does.

#include <fstream>

#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/migrator.hpp>

#include <evstore/conformance/migrator_suite.hpp>
#include <evstore/conformance/native_statement_suite.hpp>
#include <evstore/conformance/repository_suite.hpp>

#include "process.hpp"

namespace {

class sqlite_file final : public evstore::conformance::database_handle {
 public:
  [[nodiscard]] std::string url() const override {
    return "sqlite://" + (dir_.path() / "conformance.db").string();
  }

 private:
  evstore::test::temp_dir dir_;
};

}  // namespace

using evstore::conformance::migrator_conformance;
using evstore::conformance::native_statement_conformance;
using evstore::conformance::repository_conformance;

const evstore::conformance::backend_context sqlite_context{
    .name = "sqlite",
    .fresh_database = [] { return std::make_unique<sqlite_file>(); },
    .capabilities = {evstore::conformance::capability::transactional_ddl},
    .evstore_command = EVSTORE_CLI};

INSTANTIATE_TEST_SUITE_P(sqlite, migrator_conformance, ::testing::Values(sqlite_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(sqlite, repository_conformance, ::testing::Values(sqlite_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(sqlite, native_statement_conformance, ::testing::Values(sqlite_context),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(sqlite_migrator, a_no_transaction_migration_runs_statements_that_refuse_a_transaction) {
  const sqlite_file database;
  auto conn = evstore::connection::open(evstore::test::default_plugins(),
                                        evstore::parse_database_url(database.url()), {});
  const evstore::test::temp_dir app;
  // VACUUM cannot run inside a transaction.
  std::ofstream(app.path() / "0001_compact.up.sql") << "-- evstore:no-transaction\nVACUUM;\n";
  evstore::migrator engine(conn, evstore::read_migrations(app.path()), {});
  EXPECT_EQ(engine.up().size(), 3U);
  EXPECT_TRUE(engine.status().up_to_date());
}
