// The migration engine on any SQL backend: round trips, atomicity, drift, dry runs, status
// exit codes and concurrent migrators. Backend-specific behaviour (locks, no-transaction
// statements) is tested beside each backend.

#include "evstore/conformance/migrator_suite.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/migrator.hpp>

#include "process.hpp"

namespace fs = std::filesystem;

namespace evstore::conformance {

const plugin_registry& plugins_of(const backend_context& context) {
  static std::mutex mutex;
  static std::map<std::string, plugin_registry> loaded;
  const std::lock_guard lock(mutex);
  auto found = loaded.find(context.plugin_path);
  if (found == loaded.end()) {
    found =
        loaded
            .emplace(context.plugin_path,
                     plugin_registry::discover(plugin_registry::search_path(context.plugin_path)))
            .first;
  }
  return found->second;
}

store_options options_for(const backend_context& context, const database_handle& database) {
  store_options options;
  options.plugin_path = context.plugin_path;
  if (database.direct_url() != database.url()) {
    options.direct_url = parse_database_url(database.direct_url());
  }
  for (const auto& read_url : database.read_urls()) {
    options.read_urls.push_back(parse_database_url(read_url));
  }
  return options;
}

namespace {

// A fresh database, a connection to it, the backend's built-in migrations, and an application
// migrations folder.
struct migration_bench {
  std::unique_ptr<database_handle> database;
  connection conn;
  std::vector<migration> builtin;
  test::temp_dir app_dir;

  explicit migration_bench(const backend_context& context)
      : database(context.fresh_database()),
        conn(open_migration_connection(plugins_of(context), parse_database_url(database->url()),
                                       options_for(context, *database))
                 .conn),
        builtin(conn.backend().migrations()) {}

  // The id of the n-th built-in migration, from 0 ("evstore:1").
  [[nodiscard]] std::string builtin_id(std::size_t n) const {
    return "evstore:" + std::to_string(builtin.at(n).version);
  }

  void write(const std::string& file, const std::string& text) const {
    std::ofstream(app_dir.path() / file) << text;
  }

  migrator engine(migrator_options options = {}) {
    return migrator(conn, read_migrations(app_dir.path()), std::move(options));
  }

  bool has_table(const std::string& table) {
    int exists = 0;
    conn.session() << conn.backend().sql_dialect()->table_exists(table), soci::into(exists);
    return exists != 0;
  }

  migration_state state_of(const std::string& id) {
    const auto report = engine().status();
    for (const auto& m : report.migrations) {
      if (m.id.to_string() == id) {
        return m.state;
      }
    }
    ADD_FAILURE() << id << " is not in the status";
    return migration_state::missing;
  }
};

migration_error migration_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const migration_error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a migration_error";
  return migration_error("none");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The environment of the evstore command run against the bench's database.
std::map<std::string, std::string> command_environment(const backend_context& context,
                                                       const migration_bench& bench) {
  std::map<std::string, std::string> env{{"DATABASE_URL", bench.database->url()}};
  if (bench.database->direct_url() != bench.database->url()) {
    env.emplace("EVSTORE_DIRECT_URL", bench.database->direct_url());
  }
  if (!context.plugin_path.empty()) {
    env.emplace("EVSTORE_PLUGIN_PATH", context.plugin_path);
  }
  return env;
}

std::vector<std::string> lines_starting_with(const std::string& text, const std::string& prefix) {
  std::vector<std::string> found;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(prefix)) {
      found.push_back(line);
    }
  }
  return found;
}

}  // namespace

// Skips a test that runs the evstore command, as not applicable, when the context names none.
#define EVSTORE_CONFORMANCE_REQUIRE_COMMAND()                   \
  if (GetParam().evstore_command.empty())                       \
  GTEST_SKIP() << "not applicable: backend " << GetParam().name \
               << " names no evstore command (backend_context::evstore_command)"

TEST_P(migrator_conformance, up_applies_every_builtin_migration_and_down_to_zero_reverts_all) {
  migration_bench bench(GetParam());
  auto engine = bench.engine();
  EXPECT_FALSE(engine.status().up_to_date());
  const auto applied = engine.up();
  ASSERT_FALSE(bench.builtin.empty()) << "a backend's migrations create the events and media";
  ASSERT_EQ(applied.size(), bench.builtin.size());
  EXPECT_EQ(applied[0].id.to_string(), bench.builtin_id(0));
  EXPECT_TRUE(engine.status().up_to_date());
  EXPECT_TRUE(bench.has_table("events"));
  EXPECT_TRUE(bench.has_table("media"));

  const auto reverted = engine.down_to(migration_id::parse("evstore:0", "app"));
  ASSERT_EQ(reverted.size(), bench.builtin.size());
  EXPECT_EQ(reverted[0].id.to_string(), bench.builtin_id(bench.builtin.size() - 1))
      << "newest first";
  EXPECT_FALSE(bench.has_table("events"));
  EXPECT_FALSE(bench.has_table("media"));

  EXPECT_EQ(engine.up().size(), bench.builtin.size()) << "and up again";
  EXPECT_TRUE(engine.status().up_to_date());
}

TEST_P(migrator_conformance, up_to_stops_after_the_given_version_and_down_steps_count) {
  migration_bench bench(GetParam());
  bench.write("0001_first.up.sql", "CREATE TABLE first_table (id INTEGER PRIMARY KEY);");
  bench.write("0001_first.down.sql", "DROP TABLE first_table;");
  bench.write("0002_second.up.sql", "CREATE TABLE second_table (id INTEGER PRIMARY KEY);");
  bench.write("0002_second.down.sql", "DROP TABLE second_table;");
  auto engine = bench.engine();
  EXPECT_EQ(engine.up(migration_id::parse("app:1", "app")).size(), bench.builtin.size() + 1);
  EXPECT_TRUE(bench.has_table("first_table"));
  EXPECT_FALSE(bench.has_table("second_table"));
  EXPECT_EQ(bench.state_of("app:2"), migration_state::pending);
  EXPECT_EQ(engine.up().size(), 1U);
  EXPECT_EQ(engine.down(2).size(), 2U);
  EXPECT_FALSE(bench.has_table("first_table"));
  EXPECT_EQ(bench.state_of(bench.builtin_id(bench.builtin.size() - 1)), migration_state::applied);
}

TEST_P(migrator_conformance, redo_reverts_and_reapplies_the_last_migration) {
  migration_bench bench(GetParam());
  bench.write("0001_counter.up.sql",
              "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (1);");
  bench.write("0001_counter.down.sql", "DROP TABLE counter;");
  auto engine = bench.engine();
  (void)engine.up();
  bench.conn.execute("INSERT INTO counter VALUES (2)");
  const auto steps = engine.redo();
  ASSERT_EQ(steps.size(), 2U);
  EXPECT_FALSE(steps[0].up);
  EXPECT_TRUE(steps[1].up);
  int rows = 0;
  bench.conn.session() << "SELECT COUNT(*) FROM counter", soci::into(rows);
  EXPECT_EQ(rows, 1) << "the table was dropped and made again";
  EXPECT_TRUE(engine.status().up_to_date());
}

TEST_P(migrator_conformance, a_failing_migration_leaves_schema_and_history_as_they_were) {
  EVSTORE_CONFORMANCE_REQUIRE(transactional_ddl);
  migration_bench bench(GetParam());
  bench.write("0001_good.up.sql", "CREATE TABLE good (id INTEGER PRIMARY KEY);");
  bench.write("0002_broken.up.sql",
              "CREATE TABLE half_done (id INTEGER PRIMARY KEY);\n"
              "INSERT INTO half_done VALUES (1);\n"
              "INSERT INTO no_such_table VALUES (1);\n");
  auto engine = bench.engine();
  const auto e = migration_error_of([&] { (void)engine.up(); });
  const std::string message = e.what();
  EXPECT_TRUE(contains(message, "0002_broken.up.sql")) << message;
  EXPECT_TRUE(contains(message, "statement 3 of 3")) << message;
  EXPECT_TRUE(contains(message, "INSERT INTO no_such_table VALUES (1)")) << message;
  EXPECT_TRUE(contains(message, "no_such_table")) << "the database's message: " << message;
  EXPECT_FALSE(e.native_code().empty());

  EXPECT_TRUE(bench.has_table("good"));
  EXPECT_FALSE(bench.has_table("half_done")) << "the failed migration was rolled back";
  EXPECT_EQ(bench.state_of("app:1"), migration_state::applied);
  EXPECT_EQ(bench.state_of("app:2"), migration_state::pending);
}

TEST_P(migrator_conformance, an_edited_applied_migration_is_refused_until_rehashed) {
  migration_bench bench(GetParam());
  bench.write("0001_table.up.sql", "CREATE TABLE edited (id INTEGER PRIMARY KEY);");
  (void)bench.engine().up();
  const auto original = sha256_hex("CREATE TABLE edited (id INTEGER PRIMARY KEY);");

  bench.write("0001_table.up.sql", "CREATE TABLE edited (id INTEGER PRIMARY KEY, x INTEGER);");
  const auto edited = sha256_hex("CREATE TABLE edited (id INTEGER PRIMARY KEY, x INTEGER);");
  EXPECT_EQ(bench.state_of("app:1"), migration_state::modified);
  EXPECT_TRUE(bench.engine().status().drifted());
  const std::string message = migration_error_of([&] { (void)bench.engine().up(); }).what();
  EXPECT_TRUE(contains(message, "app:1")) << message;
  EXPECT_TRUE(contains(message, original)) << message;
  EXPECT_TRUE(contains(message, edited)) << message;

  bench.engine().rehash(migration_id::parse("1", "app"));
  EXPECT_EQ(bench.state_of("app:1"), migration_state::applied);
  std::string previous;
  bench.conn.session() << "SELECT rehashed_from FROM evstore_schema_migrations WHERE scope = "
                          "'app' AND version = 1",
      soci::into(previous);
  EXPECT_EQ(previous, original) << "the rehash is recorded";
}

TEST_P(migrator_conformance, an_applied_migration_without_a_file_is_missing_and_refused) {
  migration_bench bench(GetParam());
  bench.write("0001_kept.up.sql", "CREATE TABLE kept (id INTEGER PRIMARY KEY);");
  bench.write("0002_lost.up.sql", "CREATE TABLE lost (id INTEGER PRIMARY KEY);");
  (void)bench.engine().up();
  fs::remove(bench.app_dir.path() / "0002_lost.up.sql");
  EXPECT_EQ(bench.state_of("app:2"), migration_state::missing);
  const std::string message = migration_error_of([&] { (void)bench.engine().up(); }).what();
  EXPECT_TRUE(contains(message, "app:2 (lost) is recorded as applied but no file has it"))
      << message;
}

TEST_P(migrator_conformance, down_without_a_down_file_refuses_before_changing_anything) {
  migration_bench bench(GetParam());
  bench.write("0001_no_way_back.up.sql", "CREATE TABLE one_way (id INTEGER PRIMARY KEY);");
  bench.write("0002_reversible.up.sql", "CREATE TABLE reversible (id INTEGER PRIMARY KEY);");
  bench.write("0002_reversible.down.sql", "DROP TABLE reversible;");
  (void)bench.engine().up();
  const std::string message = migration_error_of([&] { (void)bench.engine().down(2); }).what();
  EXPECT_TRUE(contains(message, "no down file for app:1")) << message;
  EXPECT_TRUE(bench.has_table("reversible")) << "nothing was reverted";
  EXPECT_EQ(bench.state_of("app:2"), migration_state::applied);
}

TEST_P(migrator_conformance, dry_run_reports_the_sql_and_changes_nothing) {
  migration_bench bench(GetParam());
  migrator_options options;
  options.dry_run = true;
  auto dry = bench.engine(options);
  const auto planned = dry.up();
  ASSERT_EQ(planned.size(), bench.builtin.size());
  EXPECT_FALSE(planned[0].statements.empty());
  EXPECT_TRUE(contains(planned[0].statements.front() + planned[0].statements.back(), "events"));
  EXPECT_FALSE(bench.has_table("events"));
  EXPECT_FALSE(bench.has_table("evstore_schema_migrations"));

  (void)bench.engine().up();
  const auto reverts = dry.down(1);
  ASSERT_EQ(reverts.size(), 1U);
  EXPECT_FALSE(reverts[0].up);
  EXPECT_TRUE(bench.has_table("media")) << "a dry run reverts nothing";
}

TEST_P(migrator_conformance, concurrent_migrator_processes_apply_each_migration_once) {
  EVSTORE_CONFORMANCE_REQUIRE_COMMAND();
  migration_bench bench(GetParam());
  bench.write("0001_app_table.up.sql", "CREATE TABLE app_table (id INTEGER PRIMARY KEY);");
  constexpr int runners = 8;
  std::vector<std::thread> threads;
  std::vector<test::process_result> results(runners);
  for (int i = 0; i < runners; ++i) {
    threads.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] =
          test::run_process({GetParam().evstore_command.string(), "migrate", "--migrations-dir",
                             bench.app_dir.path().string(), "up"},
                            command_environment(GetParam(), bench), bench.app_dir.path());
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::vector<std::string> applied;
  for (const auto& result : results) {
    EXPECT_EQ(result.exit_code, 0) << result.err;
    for (auto& line : lines_starting_with(result.out, "applied ")) {
      applied.push_back(line.substr(0, line.find(" (")));
    }
  }
  std::vector<std::string> expected{"applied app:1 app_table"};
  for (std::size_t n = 0; n < bench.builtin.size(); ++n) {
    expected.push_back("applied " + bench.builtin_id(n) + " " + bench.builtin[n].name);
  }
  std::sort(applied.begin(), applied.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(applied, expected) << "each migration applied by exactly one runner";
  int rows = 0;
  bench.conn.session() << "SELECT COUNT(*) FROM evstore_schema_migrations", soci::into(rows);
  EXPECT_EQ(rows, static_cast<int>(expected.size()));
}

TEST_P(migrator_conformance, cli_status_exit_code_tells_up_to_date_pending_and_drifted) {
  EVSTORE_CONFORMANCE_REQUIRE_COMMAND();
  migration_bench bench(GetParam());
  bench.write("0001_status.up.sql", "CREATE TABLE status_table (id INTEGER PRIMARY KEY);");
  const auto status = [&] {
    return test::run_process({GetParam().evstore_command.string(), "migrate", "--migrations-dir",
                              bench.app_dir.path().string(), "status", "--exit-code"},
                             command_environment(GetParam(), bench), bench.app_dir.path());
  };
  EXPECT_EQ(status().exit_code, 8) << "pending";
  (void)bench.engine().up();
  const auto up_to_date = status();
  EXPECT_EQ(up_to_date.exit_code, 0) << up_to_date.err;
  const auto app_lines = lines_starting_with(up_to_date.out, "app ");
  ASSERT_EQ(app_lines.size(), 1U) << up_to_date.out;
  EXPECT_TRUE(contains(app_lines[0], "applied")) << up_to_date.out;
  bench.write("0001_status.up.sql", "CREATE TABLE status_table (id INTEGER);");
  const auto drifted = status();
  EXPECT_EQ(drifted.exit_code, 9) << drifted.out;
  const auto drifted_lines = lines_starting_with(drifted.out, "app ");
  ASSERT_EQ(drifted_lines.size(), 1U) << drifted.out;
  EXPECT_TRUE(contains(drifted_lines[0], "modified")) << drifted.out;
}

}  // namespace evstore::conformance
