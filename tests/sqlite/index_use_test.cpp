// The queries the schema's indexes exist for do use them, on a database with realistic data
// and fresh statistics (ANALYZE): SQLite's planner chooses each index by itself.

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/migrator.hpp>

#include "process.hpp"

namespace {

// The same data as tests/postgresql/index_use_test.cpp. Timestamps are microseconds since the
// Unix epoch (1577836800000000 is 2020-01-01 00:00:00 UTC); ids are UUID-shaped text.
//
// 2,000 events over five years: nearly all completed, 1 % live, a few scheduled, cancelled
// or draft; half have a location, spread over the globe.
constexpr const char* insert_events = R"(
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000)
INSERT INTO events (id, title, description, status, start_time, end_time, location_name,
                    latitude, longitude, metadata)
SELECT printf('%08x-0000-7000-8000-%012x', n, n),
       'Event ' || n,
       'Talks, demos and a lot of coffee, day ' || n,
       CASE WHEN n % 100 = 0 THEN 'live'
            WHEN n % 100 = 1 THEN 'scheduled'
            WHEN n % 100 = 2 THEN 'cancelled'
            WHEN n % 100 = 3 THEN 'draft'
            ELSE 'completed' END,
       1577836800000000 + (n * 78840 + n * 7919 % 3600) * 1000000,
       1577836800000000 + (n * 78840 + n * 7919 % 3600) * 1000000 + (1 + n % 8) * 3600000000,
       CASE WHEN n % 2 = 0 THEN 'Venue ' || n END,
       CASE WHEN n % 2 = 0 THEN (n * 7919 % 18000) / 100.0 - 90 END,
       CASE WHEN n % 2 = 0 THEN (n * 104729 % 36000) / 100.0 - 180 END,
       json_object('source', CASE n % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'mobile' ELSE 'import' END,
                   'tags', json_array('tag' || (n % 17)))
  FROM g)";

// 20,000 media, ten per event, captured a minute apart from the event's start: mostly ready,
// 1 % pending, 1 % processing, 0.5 % failed.
constexpr const char* insert_media = R"(
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
INSERT INTO media (id, event_id, kind, uri, mime_type, size_bytes, checksum, captured_at,
                   status, metadata)
SELECT printf('%08x-0000-7000-9000-%012x', n, n),
       e.id,
       CASE n % 10 WHEN 0 THEN 'video' WHEN 1 THEN 'audio' WHEN 2 THEN 'document'
                   ELSE 'image' END,
       printf('s3://evstore-media/%d/%d.jpg', 1 + n % 2000, n),
       'image/jpeg',
       10000 + n * 7919 % 5000000,
       lower(hex(randomblob(32))),
       e.start_time + (n / 2000) * 60000000,
       CASE WHEN n % 100 = 0 THEN 'pending'
            WHEN n % 100 = 1 THEN 'processing'
            WHEN n % 200 = 2 THEN 'failed'
            ELSE 'ready' END,
       json_object('camera', 'X' || (n % 7), 'width', 4000, 'height', 3000)
  FROM g
  JOIN events e ON e.id = printf('%08x-0000-7000-8000-%012x', 1 + n % 2000, 1 + n % 2000))";

// 2022-06-01 00:00:00 UTC and a week later, in microseconds.
constexpr const char* june_first = "1654041600000000";
constexpr const char* june_eighth = "1654646400000000";

// True when one of the plan's lines reads "... INDEX <index>" (or "COVERING INDEX <index>"),
// the whole name and not a prefix of another.
bool uses_index(const std::vector<std::string>& plan, const std::string& index) {
  const auto needle = "INDEX " + index;
  for (const auto& line : plan) {
    for (auto at = line.find(needle); at != std::string::npos; at = line.find(needle, at + 1)) {
      const auto end = at + needle.size();
      if (end == line.size() || line[end] == ' ') {
        return true;
      }
    }
  }
  return false;
}

std::string lines(const std::vector<std::string>& plan) {
  std::string text;
  for (const auto& line : plan) {
    text += "  " + line + "\n";
  }
  return text;
}

class index_use : public ::testing::Test {
 protected:
  // The data is loaded once, by the first test that runs; a failure to load it fails every
  // test (a failure in SetUpTestSuite would only mark them skipped).
  void SetUp() override {
    if (!loaded_) {
      loaded_ = true;
      try {
        load();
      } catch (const std::exception& e) {
        load_error_ = e.what();
      }
    }
    ASSERT_TRUE(load_error_.empty()) << "setting up the test database failed: " << load_error_;
  }

  static void load() {
    dir_ = std::make_unique<evstore::test::temp_dir>();
    connection_ = std::make_unique<evstore::connection>(evstore::connection::open(
        evstore::test::default_plugins(),
        evstore::parse_database_url("sqlite://" + (dir_->path() / "index_use.db").string()), {}));
    evstore::migrator(*connection_, {}, {}).up();
    connection_->execute("BEGIN IMMEDIATE");
    connection_->execute(insert_events);
    connection_->execute(insert_media);
    connection_->execute("COMMIT");
    connection_->execute("ANALYZE");
  }

  static void TearDownTestSuite() {
    loaded_ = false;
    load_error_.clear();
    connection_.reset();
    dir_.reset();
  }

  // The detail column of EXPLAIN QUERY PLAN, one line per plan step.
  static std::vector<std::string> plan_of(const std::string& query) {
    int id = 0;
    int parent = 0;
    int unused = 0;
    std::string detail;
    soci::statement statement =
        (connection_->session().prepare << "EXPLAIN QUERY PLAN " + query, soci::into(id),
         soci::into(parent), soci::into(unused), soci::into(detail));
    statement.execute();
    std::vector<std::string> plan;
    while (statement.fetch()) {
      plan.push_back(detail);
    }
    return plan;
  }

  // Expects the plan of `query` to use `index`; shows the plan when it does not.
  static void expect_uses(const std::string& index, const std::string& query) {
    const auto plan = plan_of(query);
    EXPECT_TRUE(uses_index(plan, index))
        << "expected " << index << " in the plan of\n  " << query << "\n"
        << lines(plan);
  }

  static std::unique_ptr<evstore::test::temp_dir> dir_;
  static std::unique_ptr<evstore::connection> connection_;
  static bool loaded_;
  static std::string load_error_;
};

std::unique_ptr<evstore::test::temp_dir> index_use::dir_;
std::unique_ptr<evstore::connection> index_use::connection_;
bool index_use::loaded_ = false;
std::string index_use::load_error_;

}  // namespace

TEST_F(index_use, a_page_of_an_event_timeline_uses_media_event_captured_idx_in_order) {
  const std::string query =
      std::string(
          "SELECT * FROM media WHERE event_id = '000003e8-0000-7000-8000-0000000003e8' "
          "AND captured_at >= ") +
      june_first + " ORDER BY captured_at, id LIMIT 50";
  expect_uses("media_event_captured_idx", query);
  // The index delivers the page in order: no sort step.
  for (const auto& line : plan_of(query)) {
    EXPECT_EQ(line.find("TEMP B-TREE"), std::string::npos) << line;
  }
}

TEST_F(index_use, live_events_are_found_through_events_status_idx) {
  expect_uses("events_status_idx", "SELECT * FROM events WHERE status = 'live'");
}

TEST_F(index_use, pending_media_are_found_through_media_status_idx) {
  expect_uses("media_status_idx", "SELECT * FROM media WHERE status = 'pending'");
}

TEST_F(index_use, a_week_of_the_calendar_uses_events_start_time_idx) {
  expect_uses("events_start_time_idx", std::string("SELECT * FROM events WHERE start_time >= ") +
                                           june_first + " AND start_time < " + june_eighth +
                                           " ORDER BY start_time, id");
}

TEST_F(index_use, a_small_bounding_box_uses_events_location_idx) {
  expect_uses("events_location_idx",
              "SELECT * FROM events WHERE latitude BETWEEN 10 AND 20 "
              "AND longitude BETWEEN 10 AND 30");
}
