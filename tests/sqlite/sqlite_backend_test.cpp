// The SQLite plugin, loaded as the CLI loads it: connects, pings, sets up every connection,
// and maps SQLite result codes to evstore errors whose type is one across the boundary.

#include <filesystem>
#include <regex>
#include <string>
#include <typeinfo>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/redact.hpp>

#include "process.hpp"

namespace fs = std::filesystem;

namespace {

using evstore::test::default_plugins;

evstore::connection open_sqlite(const std::string& url, evstore::connect_options options = {}) {
  return evstore::connection::open(default_plugins(), evstore::parse_database_url(url), options);
}

template <typename T>
T query_one(evstore::connection& connection, const std::string& sql) {
  T value{};
  connection.session() << sql, soci::into(value);
  return value;
}

}  // namespace

TEST(sqlite_backend, connects_to_a_file_and_pings) {
  const evstore::test::temp_dir dir;
  auto connection = open_sqlite("sqlite://" + (dir.path() / "ping.db").string());
  EXPECT_EQ(connection.backend_name(), "sqlite");
  EXPECT_GT(connection.ping().count(), 0);
  EXPECT_TRUE(std::regex_match(connection.server_version(), std::regex(R"(3\.\d+\.\d+)")));
  EXPECT_TRUE(fs::exists(dir.path() / "ping.db"));
}

TEST(sqlite_backend, connects_to_memory) {
  auto connection = open_sqlite("sqlite::memory:");
  EXPECT_GT(connection.ping().count(), 0);
  EXPECT_EQ(query_one<std::string>(connection, "PRAGMA journal_mode"), "memory");
}

TEST(sqlite_backend, turns_on_foreign_keys_wal_and_the_busy_timeout_on_every_connection) {
  const evstore::test::temp_dir dir;
  evstore::connect_options options;
  options.busy_timeout = std::chrono::milliseconds(1234);
  auto connection = open_sqlite("sqlite://" + (dir.path() / "setup.db").string(), options);
  EXPECT_EQ(query_one<int>(connection, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(query_one<std::string>(connection, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_one<int>(connection, "PRAGMA busy_timeout"), 1234);
}

TEST(sqlite_backend, opens_paths_with_spaces_and_equals_signs_exactly) {
  const evstore::test::temp_dir dir;
  for (const std::string name : {"with space.db", "a=b.db", "two  spaces=and more.db"}) {
    const auto path = dir.path() / name;
    auto connection = open_sqlite("sqlite://" + evstore::percent_encode(path.string()));
    EXPECT_GT(connection.ping().count(), 0);
    EXPECT_TRUE(fs::exists(path)) << path;
  }
}

TEST(sqlite_backend, refuses_a_path_with_a_double_quote_as_config_error) {
  EXPECT_THROW(open_sqlite("sqlite:///tmp/a%22b.db"), evstore::config_error);
}

TEST(sqlite_backend, refuses_unknown_url_parameters_as_config_error) {
  EXPECT_THROW(open_sqlite("sqlite::memory:?cache=shared"), evstore::config_error);
}

TEST(sqlite_backend, error_thrown_in_the_plugin_is_caught_as_the_exact_core_type) {
  try {
    (void)open_sqlite("sqlite:///nonexistent-folder-for-evstore/x.db");
    FAIL() << "opening in a missing folder must fail";
  } catch (const evstore::connection_error& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::connection_error));
    EXPECT_EQ(e.native_code(), "SQLITE_CANTOPEN");
    EXPECT_EQ(e.backend(), "sqlite");
    EXPECT_NE(std::string(e.what()).find("nonexistent-folder-for-evstore"), std::string::npos);
  }
}

TEST(sqlite_backend, maps_a_unique_violation_to_constraint_violation) {
  auto connection = open_sqlite("sqlite::memory:");
  connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)");
  connection.execute("INSERT INTO t VALUES (1)");
  try {
    connection.execute("INSERT INTO t VALUES (1)");
    FAIL() << "a duplicate key must be refused";
  } catch (const evstore::constraint_violation& e) {
    EXPECT_EQ(e.native_code(), "SQLITE_CONSTRAINT");
  }
}

TEST(sqlite_backend, enforces_foreign_keys) {
  auto connection = open_sqlite("sqlite::memory:");
  connection.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
  connection.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))");
  EXPECT_THROW(connection.execute("INSERT INTO child VALUES (42)"), evstore::constraint_violation);
}

TEST(sqlite_backend, maps_a_locked_database_to_transient_error) {
  const evstore::test::temp_dir dir;
  const auto url = "sqlite://" + (dir.path() / "busy.db").string();
  evstore::connect_options options;
  options.busy_timeout = std::chrono::milliseconds(50);
  auto holder = open_sqlite(url, options);
  auto waiter = open_sqlite(url, options);
  holder.execute("CREATE TABLE t (x INTEGER)");
  holder.execute("BEGIN IMMEDIATE");
  try {
    waiter.execute("BEGIN IMMEDIATE");
    FAIL() << "a second writer must be told the database is busy";
  } catch (const evstore::transient_error& e) {
    EXPECT_EQ(e.native_code(), "SQLITE_BUSY");
  }
  holder.execute("COMMIT");
}

TEST(sqlite_backend, maps_a_syntax_error_to_a_database_error) {
  auto connection = open_sqlite("sqlite::memory:");
  try {
    connection.execute("SELEC 1");
    FAIL() << "a syntax error must fail";
  } catch (const evstore::error& e) {
    EXPECT_EQ(e.category(), evstore::error_category::database);
    EXPECT_EQ(e.native_code(), "SQLITE_ERROR");
  }
}
