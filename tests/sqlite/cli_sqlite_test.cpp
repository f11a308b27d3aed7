// The evstore command against its embedded SQLite default, run as a user runs it.

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <evstore/version.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "server_process.hpp"

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
  EXPECT_NE(result.out.find(std::string("evstore ") + EVSTORE_VERSION_STRING + " (plugin ABI " +
                            std::to_string(EVSTORE_PLUGIN_ABI_VERSION) + ", "),
            std::string::npos)
      << result.out;
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

TEST(cli_sqlite, log_queries_logs_statements_with_duration_and_rows_on_stderr_without_values) {
  cli_sandbox sandbox;
  ASSERT_EQ(sandbox.run({"migrate", "up"}).exit_code, 0);
  const auto result = sandbox.run({"--log-queries", "seed", "--events", "1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::regex insert(
      R"(query on sqlite: \d+\.\d{3} ms, 1 row\(s\) \[\d+ parameter\(s\), values not logged\]: )"
      R"(INSERT INTO events)");
  EXPECT_TRUE(std::regex_search(result.err, insert)) << result.err;
  EXPECT_EQ(result.err.find("evstore 1.0 Launch Party"), std::string::npos)
      << "a sample event's title is a bound value: " << result.err;
  EXPECT_EQ(result.out.find("query on"), std::string::npos) << "logs go to stderr";

  sandbox.env["EVSTORE_LOG_QUERY_PARAMETERS"] = "true";
  const auto with_values = sandbox.run({"--log-queries", "seed", "--events", "1", "--seed", "2"});
  EXPECT_EQ(with_values.exit_code, 0) << with_values.err;
  EXPECT_NE(with_values.err.find("query on sqlite: "), std::string::npos) << with_values.err;
  EXPECT_EQ(with_values.err.find("values not logged"), std::string::npos) << with_values.err;
}

TEST(cli_sqlite, without_log_queries_no_statement_is_logged) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"migrate", "up"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find("query on sqlite"), std::string::npos) << result.err;
}

TEST(cli_sqlite, stats_says_it_does_not_apply_to_sqlite_and_exits_0) {
  const cli_sandbox sandbox;
  const auto result = sandbox.run({"stats"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("evstore stats does not apply to sqlite: sqlite keeps no statistics "
                            "of statements"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("evstore --log-queries"), std::string::npos) << result.out;

  const auto json = nlohmann::json::parse(sandbox.run({"stats", "--json"}).out);
  EXPECT_EQ(json["status"], "not_supported");
  EXPECT_TRUE(json["statements"].empty());
  EXPECT_EQ(sandbox.run({"stats", "--top", "0"}).exit_code, 2);
}

TEST(cli_sqlite, every_command_has_help) {
  const cli_sandbox sandbox;
  for (const auto& command : std::vector<std::vector<std::string>>{{"plugins"},
                                                                   {"plugins", "doctor"},
                                                                   {"ping"},
                                                                   {"migrate"},
                                                                   {"migrate", "up"},
                                                                   {"seed"},
                                                                   {"backup"},
                                                                   {"restore"},
                                                                   {"serve"},
                                                                   {"health"},
                                                                   {"stats"}}) {
    auto args = command;
    args.emplace_back("--help");
    const auto result = sandbox.run(args);
    EXPECT_EQ(result.exit_code, 0) << command.back() << ": " << result.err;
    EXPECT_NE(result.out.find("Usage:"), std::string::npos) << command.back() << result.out;
  }
}

// The main job of scripts/run.sh, on the embedded default: migrate, seed, serve.
TEST(cli_sqlite, the_main_job_migrates_seeds_and_serves_health_and_metrics) {
  const cli_sandbox sandbox;
  const auto migrated = sandbox.run({"migrate", "up"});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  const auto seeded = sandbox.run({"seed", "--profile", "small"});
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  EXPECT_NE(seeded.out.find("seeded 25 events and 207 media"), std::string::npos) << seeded.out;

  evstore::test::server_process server({EVSTORE_CLI, "serve", "--listen", "127.0.0.1:0"},
                                       sandbox.env, sandbox.dir.path());
  const auto base = "http://127.0.0.1:" + std::to_string(server.port());
  EXPECT_NE(server.out().find("  health:   " + base + "/api/health/db\n"), std::string::npos)
      << server.out();
  EXPECT_NE(server.out().find("  metrics:  " + base + "/metrics\n"), std::string::npos)
      << server.out();
  auto client = evstore::test::local_client(server.port());
  const auto health = client.Get("/api/health/db");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(nlohmann::json::parse(health->body)["status"], "up") << health->body;
  const auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("evstore_health_status{status=\"up\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_EQ(server.stop(SIGINT), 0) << server.err();
}

TEST(cli_sqlite, migrate_options_are_accepted_after_the_subcommand_too) {
  const cli_sandbox sandbox;
  sandbox.write("0001_tags.up.sql", "CREATE TABLE tags (id INTEGER PRIMARY KEY);");
  const auto up = sandbox.run({"migrate", "up", "--migrations-dir", ".", "--lock-timeout", "2"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.out.find("applied app:1 tags"), std::string::npos) << up.out;
}

TEST(cli_sqlite, every_command_strips_evstores_own_url_parameters_before_the_backend) {
  // The SQLite plugin refuses any parameter it does not know: pool_max reaching it would fail.
  const cli_sandbox sandbox;
  const std::string url = "sqlite://events.db?pool_max=8&statement_timeout=5";
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"migrate", "up"}, {"ping"}, {"seed", "--events", "1"}}) {
    std::vector<std::string> args{"--database-url", url};
    args.insert(args.end(), command.begin(), command.end());
    const auto result = sandbox.run(args);
    EXPECT_EQ(result.exit_code, 0) << command.front() << ": " << result.err;
  }
}
