// The SQLite plugin, loaded as the CLI loads it: connects, pings, sets up every connection,
// and maps SQLite result codes to evstore errors whose type is one across the boundary.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <regex>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <nlohmann/json.hpp>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/redact.hpp>
#include <evstore/testing.hpp>

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

// SQLite stores JSON as the text it is given: the metadata the core writes, one item at a time
// and through the bulk path, is byte for byte nlohmann's compact serialisation, escapes and all.
TEST(sqlite_backend, stores_metadata_as_its_compact_serialisation_alone_and_in_bulk) {
  auto store = evstore::testing::memory_store();
  evstore::new_event concert;
  concert.title = "Concert";
  concert.start_time = evstore::timestamp{std::chrono::microseconds(1'700'000'000'000'000)};
  concert.metadata = {{"quote\"", "back\\slash\t\x01"}, {"n", -3}};
  const auto e = store->events().create(concert);
  std::string controls;
  for (char c = 1; c < 0x20; ++c) {
    controls += c;
  }
  const std::vector<nlohmann::json> metadata = {
      nlohmann::json::object(),
      {{"camera", "bench"}, {"sequence", 123}},
      {{"escapes", "\" \\ / \b \f \n \r \t"}, {"controls", controls}, {"del", "\x7f"}},
      {{"caf\xc3\xa9", "\xe2\x82\xac \xf0\x9f\x98\x80"}, {"z", 1}, {"a", {1, 2.5, true, nullptr}}},
      {{"big",
        {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(), 1e300,
         -0.0, 0.1}},
       {"nested", {{"o", nlohmann::json::object()}, {"a", nlohmann::json::array()}}}},
  };
  std::vector<evstore::new_media> items;
  for (std::size_t i = 0; i < 20; ++i) {
    evstore::new_media m;
    m.event_id = e.id;
    m.uri = "file:///" + std::to_string(i);
    m.captured_at = concert.start_time;
    m.metadata = metadata[i % metadata.size()];
    items.push_back(m);
  }
  auto stored = store->media().add_many(items);  // 20 items: the bulk path
  stored.push_back(store->media().add(items[3]));
  items.push_back(items[3]);
  auto lease = store->pool().acquire();
  // The statement runs when the full expression ends: its values outlive it.
  const auto stored_text = [&](std::string_view table, const evstore::uuid& id) {
    const std::string key = id.to_string();
    std::string text;
    lease->session() << "SELECT metadata FROM " << table << " WHERE id = :id", soci::use(key),
        soci::into(text);
    return text;
  };
  for (std::size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored_text("media", stored[i].id), items[i].metadata.dump()) << "item " << i;
  }
  EXPECT_EQ(stored_text("events", e.id), concert.metadata.dump());
}
