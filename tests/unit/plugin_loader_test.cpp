// The loader refuses every kind of bad plugin with a plugin_error that names the file, and
// accepts good ones, stripped or not. Fixture plugins: tests/fixtures/.

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/plugin.hpp>
#include <evstore/plugin_registry.hpp>

#include "process.hpp"

namespace fs = std::filesystem;
using evstore::plugin_failure;

namespace {

const fs::path fixtures = EVSTORE_FIXTURE_DIR;

fs::path fixture(const std::string& folder, const std::string& file) {
  return fixtures / folder / file;
}

// Loads `file` expecting a refusal of kind `failure`; returns the message for further checks.
std::string expect_refusal(const fs::path& file, plugin_failure failure) {
  try {
    (void)evstore::load_plugin(file);
  } catch (const evstore::plugin_error& e) {
    EXPECT_EQ(e.failure(), failure) << e.what();
    EXPECT_EQ(e.category(), evstore::error_category::plugin);
    EXPECT_NE(std::string(e.what()).find(file.filename().string()), std::string::npos)
        << "the message must name the file: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << file << " was loaded, expected " << to_string(failure);
  return {};
}

// A copy of the good fixture in a private folder whose permissions a test may change.
struct private_copy {
  evstore::test::temp_dir dir;
  fs::path file = dir.path() / "evstore_fixture.so";
  private_copy() {
    fs::copy_file(fixture("ok", "evstore_fixture_ok.so"), file);
    fs::permissions(file, fs::perms(0755));
    fs::permissions(dir.path(), fs::perms(0755));
  }
};

}  // namespace

TEST(plugin_loader, loads_a_good_plugin_and_copies_its_record) {
  const auto plugin = evstore::load_plugin(fixture("ok", "evstore_fixture_ok.so"));
  EXPECT_EQ(plugin.info.name, "fixture");
  EXPECT_EQ(plugin.info.plugin_version, "0.0.1");
  EXPECT_EQ(plugin.info.abi_version, EVSTORE_PLUGIN_ABI_VERSION);
  EXPECT_EQ(plugin.info.abi_tag, EVSTORE_PLUGIN_ABI_TAG);
  EXPECT_EQ(plugin.info.sdk_version, EVSTORE_VERSION_STRING);
  EXPECT_EQ(plugin.info.schemes, std::vector<std::string>{"fixture"});
  EXPECT_TRUE(plugin.info.file.is_absolute());
  ASSERT_NE(plugin.backend, nullptr);
  EXPECT_EQ(plugin.backend->name(), "fixture");
}

TEST(plugin_loader, loads_a_stripped_plugin_without_a_symbol_table) {
  const auto plugin = evstore::load_plugin(fixture("stripped_ok", "evstore_stripped_ok.so"));
  EXPECT_EQ(plugin.info.name, "fixture");
}

TEST(plugin_loader, refuses_a_missing_file) {
  expect_refusal(fixtures / "nowhere" / "evstore_nothing.so", plugin_failure::missing_file);
}

TEST(plugin_loader, refuses_a_file_that_is_not_elf) {
  const auto message =
      expect_refusal(fixture("not_elf", "evstore_not_elf.so"), plugin_failure::not_a_plugin);
  EXPECT_NE(message.find("not an ELF shared object"), std::string::npos) << message;
}

TEST(plugin_loader, refuses_a_library_without_an_entry_point) {
  const auto message = expect_refusal(fixture("no_entry", "evstore_fixture_no_entry.so"),
                                      plugin_failure::not_a_plugin);
  EXPECT_NE(message.find(EVSTORE_PLUGIN_ENTRY_NAME), std::string::npos) << message;
}

TEST(plugin_loader, refuses_a_stripped_library_without_an_entry_point) {
  expect_refusal(fixture("stripped_no_entry", "evstore_stripped_no_entry.so"),
                 plugin_failure::not_a_plugin);
}

TEST(plugin_loader, refuses_a_plugin_built_for_another_abi_version_by_its_entry_point) {
  const auto message = expect_refusal(fixture("abi_entry", "evstore_fixture_abi_entry.so"),
                                      plugin_failure::abi_mismatch);
  EXPECT_NE(message.find("plugin 99"), std::string::npos) << message;
  EXPECT_NE(message.find("evstore " + std::to_string(EVSTORE_PLUGIN_ABI_VERSION)),
            std::string::npos)
      << message;
}

TEST(plugin_loader, refuses_a_plugin_built_against_the_1_x_sdk_saying_how_to_rebuild_it) {
  const auto message =
      expect_refusal(fixture("abi_v1", "evstore_fixture_abi_v1.so"), plugin_failure::abi_mismatch);
  EXPECT_NE(message.find("plugin ABI version differs: plugin 1, evstore 2 (it exports "
                         "evstore_plugin_entry_v1, evstore looks for evstore_plugin_entry_v2); "
                         "rebuild it against this evstore SDK: find_package(evstore 2.0) in its "
                         "CMakeLists.txt, then build it again"),
            std::string::npos)
      << message;
}

TEST(plugin_loader, refuses_a_record_naming_every_differing_field_with_both_values) {
  const auto message = expect_refusal(fixture("abi_record", "evstore_fixture_abi_record.so"),
                                      plugin_failure::abi_mismatch);
  EXPECT_NE(message.find("plugin ABI version differs: plugin 1, evstore 2"), std::string::npos)
      << message;
  EXPECT_NE(message.find("ABI tag differs: plugin \"clang-3;cxx11abi=0;soci=3.2\", evstore \"" +
                         std::string(EVSTORE_PLUGIN_ABI_TAG) + "\""),
            std::string::npos)
      << message;
}

TEST(plugin_loader, refuses_a_plugin_with_an_unresolved_symbol_at_load_time) {
  const auto message = expect_refusal(fixture("unresolved", "evstore_fixture_unresolved.so"),
                                      plugin_failure::unresolved_symbol);
  EXPECT_TRUE(message.ends_with("undefined symbol: evstore_fixture_symbol_nobody_defines"))
      << message;
}

TEST(plugin_loader, refuses_a_plugin_whose_factory_fails_with_its_reason) {
  const auto message = expect_refusal(fixture("factory", "evstore_fixture_factory.so"),
                                      plugin_failure::factory_failed);
  EXPECT_NE(message.find("no licence key"), std::string::npos) << message;
}

TEST(plugin_loader, refuses_a_plugin_file_writable_by_group) {
  const private_copy copy;
  fs::permissions(copy.file, fs::perms(0775));
  expect_refusal(copy.file, plugin_failure::unsafe_permissions);
}

TEST(plugin_loader, refuses_a_plugin_in_a_folder_writable_by_others) {
  const private_copy copy;
  (void)evstore::load_plugin(copy.file);  // acceptable before the change
  fs::permissions(copy.dir.path(), fs::perms(0777));
  const auto message = expect_refusal(copy.file, plugin_failure::unsafe_permissions);
  EXPECT_NE(message.find("folder"), std::string::npos) << message;
}

TEST(plugin_registry, refuses_a_second_plugin_claiming_a_scheme_and_reports_it) {
  const auto registry = evstore::plugin_registry::discover({fixtures / "ok", fixtures / "twin"});
  ASSERT_EQ(registry.plugins().size(), 1U);
  EXPECT_EQ(registry.plugins().front().info.name, "fixture");
  try {
    (void)registry.plugin_for("fixture");
    FAIL() << "an ambiguous scheme must not be served";
  } catch (const evstore::plugin_error& e) {
    EXPECT_EQ(e.failure(), plugin_failure::duplicate_scheme);
    const std::string message = e.what();
    EXPECT_NE(message.find("evstore_fixture_twin.so"), std::string::npos) << message;
    EXPECT_NE(message.find("evstore_fixture_ok.so"), std::string::npos) << message;
  }
}

TEST(plugin_registry, records_refused_files_and_keeps_the_good_ones) {
  const auto registry = evstore::plugin_registry::discover(
      {fixtures / "not_elf", fixtures / "factory", fixtures / "ok"});
  ASSERT_EQ(registry.plugins().size(), 1U);
  ASSERT_EQ(registry.probes().size(), 3U);
  EXPECT_EQ(registry.probes()[0].failure, plugin_failure::not_a_plugin);
  EXPECT_EQ(registry.probes()[1].failure, plugin_failure::factory_failed);
  EXPECT_TRUE(registry.probes()[2].accepted);
  EXPECT_EQ(registry.plugin_for("fixture").info.name, "fixture");
}

TEST(plugin_registry, skips_a_plugin_shadowed_by_an_earlier_folder) {
  const private_copy copy;
  fs::rename(copy.file, copy.dir.path() / "evstore_fixture_ok.so");
  const auto registry = evstore::plugin_registry::discover({copy.dir.path(), fixtures / "ok"});
  ASSERT_EQ(registry.plugins().size(), 1U);
  ASSERT_EQ(registry.probes().size(), 2U);
  EXPECT_FALSE(registry.probes()[1].accepted);
  EXPECT_FALSE(registry.probes()[1].failure.has_value());
  EXPECT_NE(registry.probes()[1].detail.find("shadowed by"), std::string::npos);
}

TEST(plugin_registry, reports_a_scheme_no_plugin_serves_with_the_folders_searched) {
  const auto registry = evstore::plugin_registry::discover({fixtures / "ok"});
  try {
    (void)registry.plugin_for("mysql");
    FAIL() << "no plugin serves mysql";
  } catch (const evstore::plugin_error& e) {
    EXPECT_EQ(e.failure(), plugin_failure::no_backend);
    EXPECT_NE(std::string(e.what()).find((fixtures / "ok").string()), std::string::npos);
  }
}

TEST(plugin_registry, search_path_ignores_empty_and_relative_entries) {
  const auto path = evstore::plugin_registry::search_path(":relative/dir::/abs/one:/abs/two/");
  ASSERT_EQ(path.size(), 3U);
  EXPECT_EQ(path[0], fs::path("/abs/one"));
  EXPECT_EQ(path[1], fs::path("/abs/two/"));
  // The default folder is the in-tree (or installed) plugin folder beside libevstore.
  EXPECT_TRUE(fs::exists(path[2] / "evstore_sqlite.so")) << path[2];
  for (const auto& folder : path) {
    EXPECT_TRUE(folder.is_absolute()) << folder;
  }
}

TEST(plugin_registry, finds_the_in_tree_plugins_with_no_environment) {
  const auto registry =
      evstore::plugin_registry::discover(evstore::plugin_registry::search_path(""));
  EXPECT_EQ(registry.plugin_for("sqlite").info.name, "sqlite");
  EXPECT_EQ(registry.plugin_for("postgresql").info.name, "postgresql");
  EXPECT_EQ(registry.plugin_for("postgres").info.name, "postgresql");
}
