// The queries the schema's indexes exist for do use them, on a database with realistic data
// and fresh statistics: PostgreSQL's planner chooses each index by itself.

#include <exception>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <nlohmann/json.hpp>

#include <evstore/connection.hpp>
#include <evstore/migrator.hpp>
#include <evstore/store.hpp>

#include "fresh_database.hpp"
#include "log_capture.hpp"
#include "process.hpp"

namespace {

// 2,000 events over five years (2020-2024) of a busy venue network: nearly all completed, 1 %
// live, a few scheduled, cancelled or draft; half have a location, spread over the globe.
// Deterministic, so that a plan change is never down to chance.
constexpr const char* insert_events = R"(
INSERT INTO events (id, title, description, status, start_time, end_time, location_name,
                    latitude, longitude, metadata)
SELECT CAST(md5('event' || n) AS uuid),
       'Event ' || n,
       'Talks, demos and a lot of coffee, day ' || n,
       CASE WHEN n % 100 = 0 THEN 'live'
            WHEN n % 100 = 1 THEN 'scheduled'
            WHEN n % 100 = 2 THEN 'cancelled'
            WHEN n % 100 = 3 THEN 'draft'
            ELSE 'completed' END,
       timestamptz '2020-01-01 00:00:00+00' + (n * 78840 + n * 7919 % 3600) * interval '1 second',
       timestamptz '2020-01-01 00:00:00+00' + (n * 78840 + n * 7919 % 3600) * interval '1 second'
           + (1 + n % 8) * interval '1 hour',
       CASE WHEN n % 2 = 0 THEN 'Venue ' || n END,
       CASE WHEN n % 2 = 0 THEN (n * 7919 % 18000) / 100.0 - 90 END,
       CASE WHEN n % 2 = 0 THEN (n * 104729 % 36000) / 100.0 - 180 END,
       jsonb_build_object('source', (ARRAY['web', 'mobile', 'import'])[1 + n % 3],
                          'tags', jsonb_build_array('tag' || n % 17))
  FROM generate_series(1, 2000) AS n)";

// 20,000 media, ten per event, captured a minute apart from the event's start: mostly ready,
// 1 % pending, 1 % processing, 0.5 % failed.
constexpr const char* insert_media = R"(
INSERT INTO media (id, event_id, kind, uri, mime_type, size_bytes, checksum, captured_at,
                   status, metadata)
SELECT CAST(md5('media' || n) AS uuid),
       e.id,
       CASE n % 10 WHEN 0 THEN 'video' WHEN 1 THEN 'audio' WHEN 2 THEN 'document'
                   ELSE 'image' END,
       's3://evstore-media/' || (1 + n % 2000) || '/' || n || '.jpg',
       'image/jpeg',
       10000 + n * 7919 % 5000000,
       md5('bytes' || n) || md5('more' || n),
       e.start_time + (n / 2000) * interval '1 minute',
       CASE WHEN n % 100 = 0 THEN 'pending'
            WHEN n % 100 = 1 THEN 'processing'
            WHEN n % 200 = 2 THEN 'failed'
            ELSE 'ready' END,
       jsonb_build_object('camera', 'X' || n % 7, 'width', 4000, 'height', 3000)
  FROM generate_series(1, 20000) AS n
  JOIN events e ON e.id = CAST(md5('event' || (1 + n % 2000)) AS uuid))";

// Every "Sort Key" anywhere in an EXPLAIN (FORMAT JSON) plan tree.
void collect_sort_keys(const nlohmann::json& node, std::set<std::string>& keys) {
  if (node.is_object()) {
    if (const auto found = node.find("Sort Key"); found != node.end() && found->is_array()) {
      for (const auto& key : *found) {
        keys.insert(key.get<std::string>());
      }
    }
    for (const auto& [key, child] : node.items()) {
      collect_sort_keys(child, keys);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) {
      collect_sort_keys(child, keys);
    }
  }
}

// The SQL of the last logged statement containing `marker`, with its placeholders :p<n>
// replaced by `values` (already quoted as SQL literals), so that it can be explained.
std::string logged_statement(const std::string& log, const std::string& marker,
                             const std::vector<std::string>& values) {
  const auto at = log.rfind(marker);
  EXPECT_NE(at, std::string::npos) << "no statement with " << marker << " in\n" << log;
  if (at == std::string::npos) {
    return {};
  }
  const auto start = log.rfind("]: ", at) + 3;
  auto sql = log.substr(start, log.find('\n', at) - start);
  for (std::size_t i = values.size(); i-- > 0;) {
    const auto placeholder = ":p" + std::to_string(i);
    for (auto found = sql.find(placeholder); found != std::string::npos;
         found = sql.find(placeholder)) {
      sql.replace(found, placeholder.size(), values[i]);
    }
  }
  return sql;
}

// Every "Index Name" anywhere in an EXPLAIN (FORMAT JSON) plan tree.
void collect_index_names(const nlohmann::json& node, std::set<std::string>& names) {
  if (node.is_object()) {
    if (const auto name = node.find("Index Name"); name != node.end() && name->is_string()) {
      names.insert(name->get<std::string>());
    }
    for (const auto& [key, child] : node.items()) {
      collect_index_names(child, names);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) {
      collect_index_names(child, names);
    }
  }
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
    database_ = std::make_unique<evstore::test::fresh_postgresql_database>("index_use");
    connection_ = std::make_unique<evstore::connection>(
        evstore::connection::open(evstore::test::default_plugins(), database_->url(), {}));
    evstore::migrator(*connection_, {}, {}).up();
    connection_->execute("BEGIN");
    connection_->execute(insert_events);
    connection_->execute(insert_media);
    connection_->execute("COMMIT");
    connection_->execute("ANALYZE events, media");
  }

  static void TearDownTestSuite() {
    loaded_ = false;
    load_error_.clear();
    connection_.reset();
    database_.reset();
  }

  // Expects the plan of `query` to use `index`; shows the plan when it does not.
  static void expect_uses(const std::string& index, const std::string& query) {
    std::string text;
    connection_->session() << "EXPLAIN (FORMAT JSON) " + query, soci::into(text);
    const auto plan = nlohmann::json::parse(text);
    std::set<std::string> used;
    collect_index_names(plan, used);
    EXPECT_TRUE(used.contains(index))
        << "expected " << index << " in the plan of\n  " << query << "\n"
        << plan.dump(2);
  }

  static std::unique_ptr<evstore::test::fresh_postgresql_database> database_;
  static std::unique_ptr<evstore::connection> connection_;
  static bool loaded_;
  static std::string load_error_;
};

std::unique_ptr<evstore::test::fresh_postgresql_database> index_use::database_;
std::unique_ptr<evstore::connection> index_use::connection_;
bool index_use::loaded_ = false;
std::string index_use::load_error_;

}  // namespace

TEST_F(index_use, a_page_of_an_event_timeline_uses_media_event_captured_idx) {
  expect_uses("media_event_captured_idx",
              "SELECT * FROM media WHERE event_id = CAST(md5('event1000') AS uuid) "
              "AND captured_at >= timestamptz '2022-06-01 00:00:00+00' "
              "ORDER BY captured_at, id LIMIT 50");
}

// The repositories' own statements, as they run: their ORDER BY must be the table's columns,
// the index's order. A bare "id" names the output column CAST(id AS text) instead, so the
// server sorted by the UUIDs' text after the index scan (the text's order under the
// database's collation, and a Sort a page read does not need).
TEST_F(index_use, the_store_orders_pages_by_the_columns_not_by_their_text) {
  const evstore::test::captured_log log;
  evstore::store_options options;
  options.query_log = {.enabled = true};
  const auto store = evstore::store::open(database_->url(), options);
  // CAST(md5('event1000') AS uuid), an event with media in this data.
  const auto event = evstore::uuid::parse("4113d327-0d13-b5f5-e8f5-797fb16dd170");
  (void)store->media().timeline(event, {}, {50, std::nullopt});
  (void)store->events().list({}, {50, std::nullopt});
  const auto text = log.text();
  for (const auto& [marker, values] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"FROM media WHERE event_id", {"'" + event.to_string() + "'", "51"}},
           {"FROM events WHERE 1 = 1", {"51"}}}) {
    const auto sql = logged_statement(text, marker, values);
    std::string plan_text;
    connection_->session() << "EXPLAIN (FORMAT JSON) " + sql, soci::into(plan_text);
    const auto plan = nlohmann::json::parse(plan_text);
    std::set<std::string> keys;
    collect_sort_keys(plan, keys);
    for (const auto& key : keys) {
      EXPECT_EQ(key.find("::text"), std::string::npos) << sql << "\n" << plan.dump(2);
    }
  }
}

TEST_F(index_use, live_events_are_found_through_events_status_idx) {
  expect_uses("events_status_idx", "SELECT * FROM events WHERE status = 'live'");
}

TEST_F(index_use, pending_media_are_found_through_media_status_idx) {
  expect_uses("media_status_idx", "SELECT * FROM media WHERE status = 'pending'");
}

TEST_F(index_use, a_week_of_the_calendar_uses_events_start_time_idx) {
  expect_uses("events_start_time_idx",
              "SELECT * FROM events WHERE start_time >= timestamptz '2022-06-01 00:00:00+00' "
              "AND start_time < timestamptz '2022-06-08 00:00:00+00' ORDER BY start_time, id");
}

TEST_F(index_use, a_small_bounding_box_uses_events_location_idx) {
  expect_uses("events_location_idx",
              "SELECT * FROM events WHERE latitude BETWEEN 10 AND 20 "
              "AND longitude BETWEEN 10 AND 30");
}
