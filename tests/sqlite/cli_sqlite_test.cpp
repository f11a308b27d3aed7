// The evstore command against its embedded SQLite default, run as a user runs it.

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "process.hpp"

namespace fs = std::filesystem;
using evstore::test::run_process;

namespace {

// A folder to run in, with no DATABASE_URL in the environment.
struct cli_sandbox {
  evstore::test::temp_dir dir;
  std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"}};

  evstore::test::process_result run(std::vector<std::string> args) const {
    args.insert(args.begin(), EVSTORE_CLI);
    return run_process(args, env, dir.path());
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir.path() / name) << text;
  }
};

}  // namespace

TEST(cli_sqlite, ping_uses_a_sqlite_file_in_the_working_directory_by_default) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"ping"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ok: sqlite 3."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("sqlite://evstore.db"), std::string::npos) << result.out;
  EXPECT_TRUE(fs::exists(sandbox.dir.path() / "evstore.db"));
}

TEST(cli_sqlite, plugins_lists_both_in_tree_plugins_with_no_environment) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"plugins"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("postgresql,postgres"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("evstore_sqlite.so"), std::string::npos) << result.out;
}

TEST(cli_sqlite, plugins_doctor_shows_refused_files_and_exits_4) {
  cli_sandbox sandbox;
  sandbox.env["EVSTORE_PLUGIN_PATH"] = std::string(EVSTORE_FIXTURE_DIR) + "/not_elf";
  const auto result = sandbox.run({"plugins", "doctor"});
  EXPECT_EQ(result.exit_code, 4) << result.out;
  EXPECT_NE(result.out.find("REFUSED"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("not an ELF shared object"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("evstore_sqlite.so"), std::string::npos) << result.out;
}

TEST(cli_sqlite, dotenv_then_dotenv_local_then_environment_then_flag_choose_the_database) {
  cli_sandbox sandbox;
  sandbox.write(".env", "DATABASE_URL=sqlite://from-env-file.db\n");
  EXPECT_NE(sandbox.run({"ping"}).out.find("sqlite://from-env-file.db"), std::string::npos);

  sandbox.write(".env.local", "DATABASE_URL=sqlite://from-env-local.db\n");
  EXPECT_NE(sandbox.run({"ping"}).out.find("sqlite://from-env-local.db"), std::string::npos);

  sandbox.env["DATABASE_URL"] = "sqlite://from-environment.db";
  EXPECT_NE(sandbox.run({"ping"}).out.find("sqlite://from-environment.db"), std::string::npos);

  const auto result = sandbox.run({"--database-url", "sqlite://from-flag.db", "ping"});
  EXPECT_NE(result.out.find("sqlite://from-flag.db"), std::string::npos) << result.out;
  EXPECT_TRUE(fs::exists(sandbox.dir.path() / "from-flag.db"));
}

TEST(cli_sqlite, a_malformed_url_exits_3_naming_its_origin_without_the_password) {
  const cli_sandbox sandbox;
  sandbox.write(".env", "# settings\nDATABASE_URL=postgresql://app:hunter2@db:99999/x\n");
  const auto result = sandbox.run({"ping"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find(".env:2"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("port"), std::string::npos) << result.err;
  EXPECT_EQ((result.out + result.err).find("hunter2"), std::string::npos) << result.err;
}

TEST(cli_sqlite, a_malformed_dotenv_line_exits_3_naming_the_line_without_its_value) {
  const cli_sandbox sandbox;
  sandbox.write(".env.local", "EVSTORE_LOG_LEVEL=info\nDATABASE_URL \"postgresql://a:hunter2@h\n");
  const auto result = sandbox.run({"ping"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_NE(result.err.find(".env.local:2"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("hunter2"), std::string::npos) << result.err;
}

TEST(cli_sqlite, an_unknown_scheme_exits_4_with_the_folders_searched) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"--database-url", "mysql://u@h/db", "ping"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_NE(result.err.find("no plugin serves URL scheme \"mysql\""), std::string::npos)
      << result.err;
}

TEST(cli_sqlite, version_shows_the_core_version_and_plugin_abi) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("plugin ABI 1"), std::string::npos) << result.out;
}

TEST(cli_sqlite, help_documents_the_exit_codes) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("Exit codes:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("5 connection error"), std::string::npos) << result.out;
}

TEST(cli_sqlite, a_bad_flag_exits_2) {
  const cli_sandbox sandbox;
  EXPECT_EQ(sandbox.run({"--no-such-flag", "ping"}).exit_code, 2);
  EXPECT_EQ(sandbox.run({}).exit_code, 2);
}

TEST(cli_sqlite, migrate_create_writes_numbered_pairs_for_every_dialect_folder) {
  const cli_sandbox sandbox;
  const auto first = sandbox.run({"migrate", "--migrations-dir", "app", "create", "add_tags"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  for (const std::string dialect : {"postgresql", "sqlite"}) {
    EXPECT_TRUE(fs::exists(sandbox.dir.path() / "app" / dialect / "0001_add_tags.up.sql"));
    EXPECT_TRUE(fs::exists(sandbox.dir.path() / "app" / dialect / "0001_add_tags.down.sql"));
  }
  const auto second = sandbox.run({"migrate", "--migrations-dir", "app", "create", "more"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(fs::exists(sandbox.dir.path() / "app" / "sqlite" / "0002_more.up.sql"));
  EXPECT_EQ(sandbox.run({"migrate", "create", "Bad-Name"}).exit_code, 3);
}

TEST(cli_sqlite, migrate_up_status_and_down_run_on_the_default_database) {
  const cli_sandbox sandbox;
  EXPECT_EQ(sandbox.run({"migrate", "status", "--exit-code"}).exit_code, 8);
  const auto up = sandbox.run({"migrate", "up"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("applied evstore:2 create_media"), std::string::npos) << up.out;
  EXPECT_EQ(sandbox.run({"migrate", "status", "--exit-code"}).exit_code, 0);
  const auto dry = sandbox.run({"migrate", "down", "--dry-run"});
  EXPECT_NE(dry.out.find("DROP TABLE media"), std::string::npos) << dry.out;
  EXPECT_EQ(sandbox.run({"migrate", "status", "--exit-code"}).exit_code, 0) << "dry run";
  const auto down = sandbox.run({"migrate", "down", "--to", "0"});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_NE(down.out.find("reverted evstore:1 create_events"), std::string::npos) << down.out;
  EXPECT_EQ(sandbox.run({"migrate", "down", "--steps", "1", "--to", "0"}).exit_code, 2);
}
