// evstore's conformance suites, run against templatedb: the proof that the plugin behaves as
// evstore's own backends do. Each test gets a fresh database file in a folder of its own.

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <evstore/conformance/migrator_suite.hpp>
#include <evstore/conformance/native_statement_suite.hpp>
#include <evstore/conformance/repository_suite.hpp>

namespace {

namespace conformance = evstore::conformance;

// Set up: a new, empty folder; tear down: remove it, with the database in it.
std::unique_ptr<conformance::database_handle> fresh_database() {
  std::string folder = (std::filesystem::temp_directory_path() / "templatedb-XXXXXX").string();
  if (mkdtemp(folder.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + folder);
  }
  return std::make_unique<conformance::scratch_database>(
      "templatedb:///conformance?folder=" + folder, [folder] {
        std::error_code ignored;
        std::filesystem::remove_all(folder, ignored);
      });
}

const conformance::backend_context templatedb{
    .name = "templatedb",
    .fresh_database = fresh_database,
    // SQLite rolls DDL back with its transaction; it has no SKIP LOCKED (claimers take turns),
    // so the test of that capability reports itself as not applicable.
    .capabilities = {conformance::capability::transactional_ddl},
    // Where this build put the plugin, searched before the installed plugins.
    .plugin_path = TEMPLATEDB_PLUGIN_DIR,
    // The installed evstore command, which loads the plugin from plugin_path.
    .evstore_command = EVSTORE_COMMAND};

}  // namespace

using evstore::conformance::migrator_conformance;
using evstore::conformance::native_statement_conformance;
using evstore::conformance::repository_conformance;

INSTANTIATE_TEST_SUITE_P(templatedb, migrator_conformance, ::testing::Values(templatedb),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(templatedb, repository_conformance, ::testing::Values(templatedb),
                         [](const auto& info) { return info.param.name; });
// templatedb has no native statements: the core drives it through SOCI, and this suite
// reports itself as not applicable.
INSTANTIATE_TEST_SUITE_P(templatedb, native_statement_conformance, ::testing::Values(templatedb),
                         [](const auto& info) { return info.param.name; });
