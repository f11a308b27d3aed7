// The schema behaves alike on both backends: the same rows are refused by the same named
// constraint, the same boundary rows are accepted (characters, not bytes, are counted), the
// touch triggers keep updated_at and version, and deleting an event deletes its media.
// schema_parity_test.cpp compares the structure; this file compares behaviour.

#include <chrono>
#include <exception>
#include <map>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/migrator.hpp>

#include "fresh_database.hpp"
#include "process.hpp"

namespace {

// Column -> SQL literal.
using row_values = std::map<std::string, std::string>;

constexpr const char* event_id = "0190a4e2-5c3b-7d2e-9f10-000000000001";
constexpr const char* other_event_id = "0190a4e2-5c3b-7d2e-9f10-000000000002";
constexpr const char* media_id = "0190a4e2-5c3b-7d2e-9f10-0000000000a1";
constexpr const char* unknown_event_id = "0190a4e2-5c3b-7d2e-9f10-0000000000ff";

// A migrated database on one backend, and the SQL literals that differ between backends.
struct backend_under_test {
  std::string name;
  evstore::connection connection;
  std::string start_time;    // 2024-01-01 00:00:00 UTC
  std::string before_start;  // one microsecond earlier
};

// An SQL string literal; the texts here contain no quote.
std::string sql_string(const std::string& text) {
  return "'" + text + "'";
}

backend_under_test migrated(std::string name, const evstore::database_url& url) {
  auto connection = evstore::connection::open(evstore::test::default_plugins(), url, {});
  evstore::migrator(connection, {}, {}).up();
  const bool postgresql = name == "postgresql";
  return {std::move(name), std::move(connection),
          postgresql ? "timestamptz '2024-01-01 00:00:00+00'" : "1704067200000000",
          postgresql ? "timestamptz '2023-12-31 23:59:59.999999+00'" : "1704067199999999"};
}

// INSERT INTO `table` with `values` (column -> SQL literal).
std::string insert(const std::string& table, const row_values& values) {
  std::string columns;
  std::string literals;
  for (const auto& [column, literal] : values) {
    columns += (columns.empty() ? "" : ", ") + column;
    literals += (literals.empty() ? "" : ", ") + literal;
  }
  return "INSERT INTO " + table + " (" + columns + ") VALUES (" + literals + ")";
}

row_values an_event(const backend_under_test& backend) {
  return {{"id", sql_string(event_id)}, {"title", "'Launch'"}, {"start_time", backend.start_time}};
}

row_values a_medium(const backend_under_test& backend) {
  return {{"id", sql_string(media_id)},
          {"event_id", sql_string(event_id)},
          {"kind", "'image'"},
          {"uri", "'s3://bucket/a.jpg'"},
          {"captured_at", backend.start_time}};
}

row_values with(row_values values, const row_values& changes) {
  for (const auto& [column, literal] : changes) {
    values[column] = literal;
  }
  return values;
}

long long query_integer(evstore::connection& connection, const std::string& sql) {
  long long value = 0;
  connection.session() << sql, soci::into(value);
  return value;
}

struct refused_row {
  std::string constraint;
  std::string table;
  row_values changes;  // to the valid row of `table`
};

// Expects `sql` to be refused with a constraint_violation that names `constraint` (when the
// backend names it: SQLite does not name foreign keys).
void expect_refused(backend_under_test& backend, const std::string& sql,
                    const std::string& constraint) {
  try {
    backend.connection.execute(sql);
    ADD_FAILURE() << constraint << " must refuse " << sql;
  } catch (const evstore::constraint_violation& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::constraint_violation));
    const std::string message = e.what();
    const bool unnamed = backend.name == "sqlite" && constraint.ends_with("_fkey");
    if (!unnamed) {
      EXPECT_NE(message.find(constraint), std::string::npos) << message;
    }
  }
}

class schema_behaviour : public ::testing::Test {
 protected:
  void SetUp() override {
    backends_.push_back(migrated(
        "sqlite",
        evstore::parse_database_url("sqlite://" + (dir_.path() / "behaviour.db").string())));
    backends_.push_back(migrated("postgresql", database_.url()));
  }

  evstore::test::temp_dir dir_;
  evstore::test::fresh_postgresql_database database_{"behaviour"};
  std::vector<backend_under_test> backends_;
};

}  // namespace

TEST_F(schema_behaviour, both_backends_refuse_the_same_rows_by_the_same_constraint) {
  for (auto& backend : backends_) {
    SCOPED_TRACE(backend.name);
    backend.connection.execute(insert("events", an_event(backend)));
    const auto other_event =
        with(an_event(backend), row_values{{"id", sql_string(other_event_id)}});
    const std::vector<refused_row> rows{
        {"events_title_check", "events", {{"title", "''"}}},
        {"events_title_check", "events", {{"title", sql_string(std::string(501, 'x'))}}},
        {"events_status_check", "events", {{"status", "'archived'"}}},
        {"events_time_range_check", "events", {{"end_time", backend.before_start}}},
        {"events_latitude_check", "events", {{"latitude", "90.5"}, {"longitude", "0"}}},
        {"events_latitude_check", "events", {{"latitude", "-90.5"}, {"longitude", "0"}}},
        {"events_longitude_check", "events", {{"latitude", "0"}, {"longitude", "180.5"}}},
        {"events_longitude_check", "events", {{"latitude", "0"}, {"longitude", "-180.5"}}},
        {"events_coordinates_check", "events", {{"latitude", "10"}}},
        {"events_coordinates_check", "events", {{"longitude", "10"}}},
        {"events_metadata_check", "events", {{"metadata", "'[1, 2]'"}}},
        {"events_metadata_check", "events", {{"metadata", "'null'"}}},
        {"media_event_id_fkey", "media", {{"event_id", sql_string(unknown_event_id)}}},
        {"media_kind_check", "media", {{"kind", "'gif'"}}},
        {"media_uri_check", "media", {{"uri", "''"}}},
        {"media_size_check", "media", {{"size_bytes", "-1"}}},
        {"media_status_check", "media", {{"status", "'done'"}}},
        {"media_metadata_check", "media", {{"metadata", "'\"text\"'"}}},
    };
    for (const auto& row : rows) {
      const auto valid = row.table == "events" ? other_event : a_medium(backend);
      expect_refused(backend, insert(row.table, with(valid, row.changes)), row.constraint);
    }
    EXPECT_EQ(query_integer(backend.connection, "SELECT COUNT(*) FROM events"), 1);
    EXPECT_EQ(query_integer(backend.connection, "SELECT COUNT(*) FROM media"), 0);
  }
}

TEST_F(schema_behaviour, both_backends_accept_the_same_boundary_rows) {
  // 500 two-byte characters: PostgreSQL's char_length and SQLite's length both count
  // characters, so a 1000-byte title is accepted on both.
  std::string accented;
  for (int i = 0; i < 500; ++i) {
    accented += "\xc3\xa9";
  }
  for (auto& backend : backends_) {
    SCOPED_TRACE(backend.name);
    backend.connection.execute(insert(
        "events",
        with(an_event(backend), row_values{{"title", sql_string(accented)},
                                           {"end_time", backend.start_time},
                                           {"latitude", "-90"},
                                           {"longitude", "180"},
                                           {"metadata", "'{\"tags\": [\"a\"], \"n\": {}}'"}})));
    backend.connection.execute(
        insert("events", with(an_event(backend), row_values{{"id", sql_string(other_event_id)},
                                                            {"title", "'x'"},
                                                            {"latitude", "90"},
                                                            {"longitude", "-180"}})));
    backend.connection.execute(insert(
        "media", with(a_medium(backend), row_values{{"size_bytes", "0"},
                                                    {"uri", sql_string(std::string(2048, 'u'))}})));
    EXPECT_EQ(query_integer(backend.connection, "SELECT COUNT(*) FROM events"), 2);
    EXPECT_EQ(query_integer(backend.connection,
                            "SELECT COUNT(*) FROM events WHERE status = 'draft' "
                            "AND version = 1 AND created_at = updated_at"),
              2);
    EXPECT_EQ(query_integer(backend.connection,
                            "SELECT COUNT(*) FROM media WHERE status = 'pending' "
                            "AND created_at = updated_at"),
              1);
  }
}

TEST_F(schema_behaviour, an_update_increments_version_once_and_moves_updated_at) {
  for (auto& backend : backends_) {
    SCOPED_TRACE(backend.name);
    backend.connection.execute(insert("events", an_event(backend)));
    backend.connection.execute(insert("media", a_medium(backend)));
    // SQLite's clock has millisecond resolution: let it move.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

    backend.connection.execute("UPDATE events SET title = 'Renamed' WHERE id = '" +
                               std::string(event_id) + "'");
    EXPECT_EQ(query_integer(backend.connection, "SELECT version FROM events"), 2);
    // A writer that increments version itself (optimistic concurrency) still gets one
    // increment, not two.
    backend.connection.execute(
        "UPDATE events SET title = 'Again', version = version + 1 WHERE version = 2");
    EXPECT_EQ(query_integer(backend.connection, "SELECT version FROM events"), 3);
    backend.connection.execute("UPDATE media SET status = 'ready'");

    EXPECT_EQ(query_integer(backend.connection,
                            "SELECT COUNT(*) FROM events WHERE updated_at > created_at"),
              1);
    EXPECT_EQ(query_integer(backend.connection,
                            "SELECT COUNT(*) FROM media WHERE updated_at > created_at"),
              1);
  }
}

TEST_F(schema_behaviour,
       sqlite_connections_keep_recursive_triggers_off_as_the_touch_triggers_need) {
  // The SQLite touch triggers update their own row after an update; with recursive triggers
  // on, that update would fire them again until SQLite gives up.
  EXPECT_EQ(query_integer(backends_.front().connection, "PRAGMA recursive_triggers"), 0);
}

TEST_F(schema_behaviour, deleting_an_event_deletes_its_media) {
  for (auto& backend : backends_) {
    SCOPED_TRACE(backend.name);
    backend.connection.execute(insert("events", an_event(backend)));
    backend.connection.execute(insert("media", a_medium(backend)));
    backend.connection.execute(insert(
        "media",
        with(a_medium(backend), row_values{{"id", "'0190a4e2-5c3b-7d2e-9f10-0000000000a2'"}})));
    backend.connection.execute("DELETE FROM events");
    EXPECT_EQ(query_integer(backend.connection, "SELECT COUNT(*) FROM media"), 0);
  }
}
