// The event and media repositories and transactions, on any backend: the same calls, the same
// results. Each test gets a fresh, migrated database.

#include "evstore/conformance/repository_suite.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <future>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>

#include "one_connection_source.hpp"
#include "process.hpp"

namespace evstore::conformance {
namespace {

using namespace std::chrono_literals;

timestamp at(long long micros_since_epoch) {
  return timestamp(std::chrono::microseconds(micros_since_epoch));
}

// 2026-01-01T00:00:00Z plus `seconds`.
timestamp day_one(long long seconds = 0) {
  return at(1767225600LL * 1000000 + seconds * 1000000);
}

new_event sample_event(std::string title, timestamp start = day_one()) {
  new_event e;
  e.title = std::move(title);
  e.start_time = start;
  return e;
}

new_media sample_media(const uuid& event_id, timestamp captured) {
  new_media m;
  m.event_id = event_id;
  m.kind = media_kind::image;
  m.uri = "s3://bucket/photo.jpg";
  m.captured_at = captured;
  return m;
}

template <typename T>
std::vector<uuid> ids_of(const std::vector<T>& items) {
  std::vector<uuid> ids;
  for (const auto& item : items) {
    ids.push_back(item.id);
  }
  return ids;
}

// Every event matching `filter`, walked page by page.
std::vector<event> walk(event_repository events, const event_filter& filter, std::size_t limit,
                        sort_direction direction = sort_direction::ascending) {
  std::vector<event> all;
  page_request request{limit, std::nullopt};
  for (;;) {
    auto page = events.list(filter, request, direction);
    all.insert(all.end(), page.items.begin(), page.items.end());
    if (!page.next_cursor) {
      return all;
    }
    request.cursor = page.next_cursor;
  }
}

std::string validation_field_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const validation_error& e) {
    return e.field();
  }
  ADD_FAILURE() << "expected a validation_error";
  return {};
}

// Repeats `unit` (one character, possibly several bytes) `count` times.
std::string repeated(std::string_view unit, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += unit;
  }
  return text;
}

}  // namespace

void repository_conformance::SetUp() {
  database_ = GetParam().fresh_database();
  store_ = store::open(parse_database_url(database_->url()), options_for(GetParam(), *database_));
  (void)store_->migrate();
}

void repository_conformance::TearDown() {
  store_.reset();
  database_.reset();
}

TEST_P(repository_conformance, create_assigns_a_uuidv7_and_the_database_maintained_values) {
  const auto before = std::chrono::system_clock::now() - 1s;
  const auto created = store_->events().create(sample_event("Launch"));
  EXPECT_EQ(created.id.bytes()[6] >> 4, 7) << "a UUIDv7";
  EXPECT_EQ(created.version, 1);
  EXPECT_GE(created.created_at, before);
  EXPECT_EQ(created.created_at, created.updated_at);
  EXPECT_EQ(created.status, event_status::draft);
  EXPECT_EQ(created.metadata, nlohmann::json::object());
  EXPECT_EQ(store_->events().get(created.id), created);
}

TEST_P(repository_conformance, every_field_round_trips_exactly) {
  new_event e = sample_event("Ünïcødé ☃ 🎉 \"quoted\" 'single'", at(1767225600123456));
  e.id = uuid::v7();
  e.description = "line one\nline two\ttabbed";
  e.status = event_status::live;
  e.end_time = at(1767225600123457);
  e.location_name = "Zürich Hauptbahnhof";
  e.coordinates = geo_point{47.378177, 8.540192};
  e.metadata = {{"tags", {"a", "b"}},
                {"nested", {{"deep", {{"deeper", 1.5}}}}},
                {"emoji", "🎉"},
                {"null", nullptr},
                {"big", 9007199254740993LL}};
  const auto created = store_->events().create(e);
  const auto read = store_->events().get(*e.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, created);
  EXPECT_EQ(read->title, e.title);
  EXPECT_EQ(read->description, e.description);
  EXPECT_EQ(read->start_time, e.start_time);
  EXPECT_EQ(read->end_time, e.end_time);
  EXPECT_EQ(read->coordinates, e.coordinates);
  EXPECT_EQ(read->metadata, e.metadata);
}

TEST_P(repository_conformance, timestamps_keep_microseconds_across_centuries) {
  for (const auto t : {at(-2208988800000000 + 1), at(7258118399999999), at(0), at(-1),
                       at(1767225600000001), at(1767225600999999)}) {
    const auto created = store_->events().create(sample_event("t", t));
    EXPECT_EQ(store_->events().get(created.id)->start_time, t)
        << t.time_since_epoch().count() << " us";
  }
}

TEST_P(repository_conformance, get_of_an_unknown_id_is_empty_not_an_error) {
  EXPECT_FALSE(store_->events().get(uuid::v7()));
  EXPECT_FALSE(store_->media().get(uuid::v7()));
}

TEST_P(repository_conformance, a_taken_id_is_a_constraint_violation) {
  auto e = sample_event("first");
  e.id = uuid::v7();
  (void)store_->events().create(e);
  EXPECT_THROW((void)store_->events().create(e), constraint_violation);
}

TEST_P(repository_conformance, create_idempotent_returns_the_stored_event_for_a_known_id) {
  auto e = sample_event("once");
  e.id = uuid::v7();
  const auto first = store_->events().create_idempotent(e);
  e.title = "twice";
  const auto second = store_->events().create_idempotent(e);
  EXPECT_EQ(second, first);
  EXPECT_EQ(store_->events().count({}), 1);
}

TEST_P(repository_conformance, update_applies_a_patch_bumps_the_version_and_clears_fields) {
  auto e = sample_event("before");
  e.description = "to be cleared";
  const auto created = store_->events().create(e);
  event_patch patch;
  patch.title = "after";
  patch.description = std::optional<std::string>{};
  patch.status = event_status::scheduled;
  const auto updated = store_->events().update(created.id, created.version, patch);
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->title, "after");
  EXPECT_FALSE(updated->description);
  EXPECT_EQ(updated->status, event_status::scheduled);
  EXPECT_EQ(updated->version, created.version + 1);
  EXPECT_GE(updated->updated_at, created.updated_at);
  EXPECT_EQ(updated->start_time, created.start_time) << "untouched fields stay";
  EXPECT_EQ(store_->events().get(created.id), updated);
  EXPECT_FALSE(store_->events().update(uuid::v7(), 1, patch)) << "no such event";
}

TEST_P(repository_conformance, update_with_a_stale_version_is_a_conflict) {
  const auto created = store_->events().create(sample_event("v1"));
  event_patch patch;
  patch.title = "v2";
  (void)store_->events().update(created.id, created.version, patch);
  EXPECT_THROW((void)store_->events().update(created.id, created.version, patch), conflict);
}

TEST_P(repository_conformance, an_invalid_patch_is_refused_before_any_sql) {
  const auto created = store_->events().create(sample_event("valid"));
  event_patch patch;
  patch.end_time = std::optional(created.start_time - 1us);
  EXPECT_EQ(validation_field_of([&] { (void)store_->events().update(created.id, 1, patch); }),
            "end_time");
  EXPECT_EQ(store_->events().get(created.id)->version, 1);
}

TEST_P(repository_conformance, remove_deletes_the_event_and_its_media) {
  const auto e = store_->events().create(sample_event("doomed"));
  const auto m = store_->media().add(sample_media(e.id, day_one()));
  EXPECT_TRUE(store_->events().remove(e.id));
  EXPECT_FALSE(store_->events().get(e.id));
  EXPECT_FALSE(store_->media().get(m.id)) << "ON DELETE CASCADE";
  EXPECT_FALSE(store_->events().remove(e.id));
}

TEST_P(repository_conformance, filters_select_alone_and_combined) {
  auto events = store_->events();
  auto live = sample_event("Live in Zürich", day_one(10));
  live.status = event_status::live;
  live.coordinates = geo_point{47.37, 8.54};
  live.metadata = {{"tags", {"music", "outdoor"}}, {"tier", 2}};
  auto draft = sample_event("Draft in Fiji", day_one(20));
  draft.coordinates = geo_point{-17.7, 178.0};
  draft.metadata = {{"tags", {"music"}}};
  auto done = sample_event("Done 100%_literal", day_one(30));
  done.status = event_status::completed;
  const auto a = events.create(live);
  const auto b = events.create(draft);
  const auto c = events.create(done);

  const auto ids = [&](const event_filter& f) { return ids_of(walk(events, f, 2)); };
  event_filter by_status;
  by_status.statuses = {event_status::live, event_status::completed};
  EXPECT_EQ(ids(by_status), (std::vector<uuid>{a.id, c.id}));

  event_filter by_time;
  by_time.starts_from = day_one(20);
  by_time.starts_before = day_one(30);
  EXPECT_EQ(ids(by_time), (std::vector<uuid>{b.id}));

  event_filter europe;
  europe.within = event_filter::box{{35, -10}, {60, 30}};
  EXPECT_EQ(ids(europe), (std::vector<uuid>{a.id}));
  event_filter across_antimeridian;
  across_antimeridian.within = event_filter::box{{-30, 170}, {0, -170}};
  EXPECT_EQ(ids(across_antimeridian), (std::vector<uuid>{b.id}));

  event_filter tagged;
  tagged.metadata_contains = nlohmann::json{{"tags", {"music"}}};
  EXPECT_EQ(ids(tagged), (std::vector<uuid>{a.id, b.id}));
  tagged.metadata_contains = nlohmann::json{{"tags", {"outdoor"}}, {"tier", 2}};
  EXPECT_EQ(ids(tagged), (std::vector<uuid>{a.id}));

  event_filter titled;
  titled.title_contains = "in z";
  EXPECT_EQ(ids(titled), (std::vector<uuid>{a.id})) << "case-insensitive";
  titled.title_contains = "100%_";
  EXPECT_EQ(ids(titled), (std::vector<uuid>{c.id}));
  titled.title_contains = "%";
  EXPECT_EQ(ids(titled), (std::vector<uuid>{c.id})) << "% is matched literally";
  titled.title_contains = "_";
  EXPECT_EQ(ids(titled), (std::vector<uuid>{c.id})) << "_ is matched literally";

  event_filter combined;
  combined.statuses = {event_status::live, event_status::draft};
  combined.metadata_contains = nlohmann::json{{"tags", {"music"}}};
  combined.starts_from = day_one(15);
  EXPECT_EQ(ids(combined), (std::vector<uuid>{b.id}));
  EXPECT_EQ(events.count(combined), 1);
  EXPECT_EQ(events.count({}), 3);
}

TEST_P(repository_conformance, pages_walk_every_event_once_in_order_with_ties_broken_by_id) {
  auto events = store_->events();
  std::vector<new_event> batch;
  for (int i = 0; i < 37; ++i) {
    batch.push_back(sample_event("e" + std::to_string(i), day_one(i % 5)));  // many ties
  }
  (void)events.create_many(batch);
  for (const auto direction : {sort_direction::ascending, sort_direction::descending}) {
    const auto all = walk(events, {}, 4, direction);
    ASSERT_EQ(all.size(), 37U);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [&](const event& x, const event& y) {
      const auto key_x = std::pair(x.start_time, x.id);
      const auto key_y = std::pair(y.start_time, y.id);
      return direction == sort_direction::ascending ? key_x < key_y : key_x > key_y;
    }));
    const auto ids = ids_of(all);
    EXPECT_EQ(std::set<uuid>(ids.begin(), ids.end()).size(), 37U) << "no duplicates";
  }
}

TEST_P(repository_conformance, a_malformed_or_foreign_cursor_and_a_bad_limit_are_refused) {
  auto events = store_->events();
  for (int i = 0; i < 3; ++i) {
    (void)events.create(sample_event("e"));
  }
  const auto first = events.list({}, {1, std::nullopt});
  ASSERT_TRUE(first.next_cursor);
  auto tampered = *first.next_cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(validation_field_of([&] { (void)events.list({}, {1, tampered}); }), "cursor");
  EXPECT_EQ(validation_field_of([&] { (void)events.list({}, {1, "not a cursor"}); }), "cursor");
  EXPECT_EQ(validation_field_of([&] {
              (void)events.list({}, {1, first.next_cursor}, sort_direction::descending);
            }),
            "cursor")
      << "a cursor of the ascending listing";
  EXPECT_EQ(validation_field_of([&] { (void)events.list({}, {0, std::nullopt}); }), "limit");
  EXPECT_EQ(validation_field_of([&] { (void)events.list({}, {1001, std::nullopt}); }), "limit");
}

TEST_P(repository_conformance, walking_pages_while_others_insert_has_no_duplicates_or_gaps) {
  auto events = store_->events();
  std::vector<new_event> batch;
  for (int i = 0; i < 60; ++i) {
    batch.push_back(sample_event("existing", day_one(i)));
  }
  const auto existing = ids_of(events.create_many(batch));
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !done && i < 200; ++i) {
        (void)store_->events().create(sample_event("new", day_one((i * 7 + w) % 70)));
      }
    });
  }
  const auto walked = ids_of(walk(events, {}, 7));
  done = true;
  for (auto& writer : writers) {
    writer.join();
  }
  EXPECT_EQ(std::set<uuid>(walked.begin(), walked.end()).size(), walked.size()) << "no duplicates";
  for (const auto& id : existing) {
    EXPECT_NE(std::find(walked.begin(), walked.end(), id), walked.end()) << "no gaps";
  }
}

TEST_P(repository_conformance,
       a_transaction_commits_when_it_returns_and_rolls_back_when_it_throws) {
  const auto id = store_->transaction([&](transaction& tx) {
    const auto e = tx.events().create(sample_event("kept"));
    (void)tx.media().add(sample_media(e.id, day_one()));
    return e.id;
  });
  EXPECT_TRUE(store_->events().get(id));
  EXPECT_EQ(store_->media().count_by_event(id), 1);

  uuid rolled_back;
  EXPECT_THROW(store_->transaction([&](transaction& tx) {
    rolled_back = tx.events().create(sample_event("discarded")).id;
    (void)tx.media().add(sample_media(rolled_back, day_one()));
    throw std::runtime_error("the caller changed its mind");
  }),
               std::runtime_error);
  EXPECT_FALSE(store_->events().get(rolled_back)) << "nothing is left behind";
  EXPECT_EQ(store_->events().count({}), 1);
}

TEST_P(repository_conformance, a_savepoint_rolls_back_alone_and_the_outer_work_commits) {
  uuid outer;
  uuid inner;
  store_->transaction([&](transaction& tx) {
    outer = tx.events().create(sample_event("outer")).id;
    EXPECT_THROW(tx.savepoint([&](transaction& nested) {
      inner = nested.events().create(sample_event("inner")).id;
      throw std::runtime_error("undo the inner part");
    }),
                 std::runtime_error);
    tx.savepoint([&](transaction& nested) { (void)nested.events().create(sample_event("kept")); });
  });
  EXPECT_TRUE(store_->events().get(outer));
  EXPECT_FALSE(store_->events().get(inner));
  EXPECT_EQ(store_->events().count({}), 2);
}

TEST_P(repository_conformance, create_many_stores_all_or_none) {
  const auto taken = store_->events().create(sample_event("taken"));
  std::vector<new_event> batch{sample_event("a"), sample_event("b")};
  batch[1].id = taken.id;
  EXPECT_THROW((void)store_->events().create_many(batch), constraint_violation);
  EXPECT_EQ(store_->events().count({}), 1) << "the first of the batch was rolled back";
  batch[1].id.reset();
  batch[1].title = "";
  EXPECT_EQ(validation_field_of([&] { (void)store_->events().create_many(batch); }), "title");
}

TEST_P(repository_conformance, large_and_deep_metadata_round_trips) {
  nlohmann::json metadata = nlohmann::json::object();
  for (int i = 0; i < 500; ++i) {
    metadata["key" + std::to_string(i)] = std::string(100, static_cast<char>('a' + i % 26));
  }
  nlohmann::json deep = "leaf";
  for (int i = 0; i < 30; ++i) {
    deep = nlohmann::json{{"level", deep}, {"list", {i, "x", nullptr, true}}};
  }
  metadata["deep"] = deep;
  auto e = sample_event("big");
  e.metadata = metadata;
  const auto created = store_->events().create(e);
  EXPECT_EQ(store_->events().get(created.id)->metadata, metadata);
}

TEST_P(repository_conformance, injection_shaped_text_is_stored_and_matched_literally) {
  const std::string nasty = "'); DROP TABLE events; -- \" OR 1=1 /* %_\\";
  auto e = sample_event(nasty);
  e.description = nasty;
  e.location_name = nasty;
  e.metadata = {{nasty, nasty}};
  const auto created = store_->events().create(e);
  const auto m = [&] {
    auto item = sample_media(created.id, day_one());
    item.uri = nasty;
    item.checksum = nasty;
    item.metadata = {{nasty, nasty}};
    return store_->media().add(item);
  }();
  EXPECT_EQ(store_->events().get(created.id)->title, nasty);
  EXPECT_EQ(store_->media().get(m.id)->uri, nasty);
  event_filter filter;
  filter.title_contains = nasty;
  filter.metadata_contains = nlohmann::json{{nasty, nasty}};
  EXPECT_EQ(store_->events().count(filter), 1);
  filter.title_contains = "' OR '1'='1";
  EXPECT_EQ(store_->events().count(filter), 0);
}

TEST_P(repository_conformance, a_timeline_of_ten_thousand_items_walks_in_capture_order) {
  const auto e = store_->events().create(sample_event("long"));
  std::vector<new_media> items;
  for (int i = 0; i < 10000; ++i) {
    // Descending insert order and ties every 3 items: the order comes from the query.
    items.push_back(sample_media(e.id, day_one((10000 - i) / 3)));
  }
  (void)store_->media().add_many(items);
  EXPECT_EQ(store_->media().count_by_event(e.id), 10000);
  std::vector<media> walked;
  page_request request{500, std::nullopt};
  for (;;) {
    auto page = store_->media().timeline(e.id, {}, request);
    walked.insert(walked.end(), page.items.begin(), page.items.end());
    if (!page.next_cursor) {
      break;
    }
    request.cursor = page.next_cursor;
  }
  ASSERT_EQ(walked.size(), 10000U);
  EXPECT_TRUE(std::is_sorted(walked.begin(), walked.end(), [](const media& x, const media& y) {
    return std::pair(x.captured_at, x.id) < std::pair(y.captured_at, y.id);
  }));
  const auto ids = ids_of(walked);
  EXPECT_EQ(std::set<uuid>(ids.begin(), ids.end()).size(), 10000U);
  const auto window = store_->media().timeline(e.id, {day_one(100), day_one(110)}, {1000, {}});
  EXPECT_EQ(window.items.size(), 30U);
}

TEST_P(repository_conformance, media_updates_and_their_errors) {
  const auto e = store_->events().create(sample_event("media"));
  const auto m = store_->media().add(sample_media(e.id, day_one()));
  EXPECT_EQ(m.status, media_status::pending);
  const auto ready = store_->media().update_status(m.id, media_status::ready);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, media_status::ready);
  const auto tagged = store_->media().update_metadata(m.id, {{"width", 4032}});
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->metadata, (nlohmann::json{{"width", 4032}}));
  EXPECT_FALSE(store_->media().update_status(uuid::v7(), media_status::ready));
  EXPECT_THROW((void)store_->media().add(sample_media(uuid::v7(), day_one())), constraint_violation)
      << "no such event";
  EXPECT_TRUE(store_->media().remove(m.id));
  EXPECT_FALSE(store_->media().remove(m.id));
}

TEST_P(repository_conformance, claim_pending_from_eight_threads_never_claims_an_item_twice) {
  const auto e = store_->events().create(sample_event("work"));
  std::vector<new_media> items;
  for (int i = 0; i < 200; ++i) {
    items.push_back(sample_media(e.id, day_one(i)));
  }
  (void)store_->media().add_many(items);
  std::mutex claimed_mutex;
  std::vector<uuid> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (;;) {
        const auto batch = store_->media().claim_pending(7);
        if (batch.empty()) {
          return;
        }
        for (const auto& item : batch) {
          EXPECT_EQ(item.status, media_status::processing);
        }
        const std::lock_guard lock(claimed_mutex);
        for (const auto& item : batch) {
          claimed.push_back(item.id);
        }
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  EXPECT_EQ(claimed.size(), 200U);
  EXPECT_EQ(std::set<uuid>(claimed.begin(), claimed.end()).size(), 200U) << "none twice";
}

TEST_P(repository_conformance, claim_pending_skips_rows_another_transaction_holds) {
  EVSTORE_CONFORMANCE_REQUIRE(skip_locked);
  const auto e = store_->events().create(sample_event("work"));
  (void)store_->media().add_many({sample_media(e.id, day_one(1)), sample_media(e.id, day_one(2))});
  store_->transaction([&](transaction& tx) {
    const auto held = tx.media().claim_pending(1);
    ASSERT_EQ(held.size(), 1U);
    auto other = std::async(std::launch::async, [&] { return store_->media().claim_pending(1); });
    ASSERT_EQ(other.wait_for(5s), std::future_status::ready)
        << "the second claimer waited for the first one's transaction";
    const auto claimed = other.get();
    ASSERT_EQ(claimed.size(), 1U);
    EXPECT_NE(claimed[0].id, held[0].id);
  });
}

TEST_P(repository_conformance, eight_concurrent_writers_lose_no_update) {
  const auto created = store_->events().create(sample_event("counter"));
  constexpr int writers = 8;
  constexpr int increments = 10;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < increments;) {
        const auto current = *store_->events().get(created.id);
        event_patch patch;
        auto metadata = current.metadata;
        metadata["count"] = metadata.value("count", 0) + 1;
        patch.metadata = metadata;
        try {
          (void)store_->events().update(created.id, current.version, patch);
          ++i;
        } catch (const conflict&) {
          // Someone else won this round: read again and retry.
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto final_event = *store_->events().get(created.id);
  EXPECT_EQ(final_event.metadata["count"], writers * increments);
  EXPECT_EQ(final_event.version, 1 + writers * increments);
}

TEST_P(repository_conformance, every_rule_of_the_model_is_checked_before_any_sql) {
  auto events = store_->events();
  const auto field = [&](new_event e) {
    return validation_field_of([&] { (void)events.create(e); });
  };
  auto e = sample_event("");
  EXPECT_EQ(field(e), "title");
  e = sample_event(std::string(501, 'x'));
  EXPECT_EQ(field(e), "title");
  e = sample_event("bad\xC3");
  EXPECT_EQ(field(e), "title");
  e = sample_event("ok");
  e.end_time = e.start_time - 1us;
  EXPECT_EQ(field(e), "end_time");
  e = sample_event("ok");
  e.coordinates = geo_point{90.5, 0};
  EXPECT_EQ(field(e), "coordinates.latitude");
  e.coordinates = geo_point{0, -180.5};
  EXPECT_EQ(field(e), "coordinates.longitude");
  e = sample_event("ok");
  e.metadata = nlohmann::json::array();
  EXPECT_EQ(field(e), "metadata");
  EXPECT_EQ(events.count({}), 0) << "nothing reached the database";

  e = sample_event(std::string(500, 'x'));
  e.coordinates = geo_point{-90, 180};
  EXPECT_NO_THROW((void)events.create(e)) << "the boundaries themselves are allowed";

  const auto owner = events.create(sample_event("owner"));
  auto m = sample_media(owner.id, day_one());
  m.size_bytes = -1;
  EXPECT_EQ(validation_field_of([&] { (void)store_->media().add(m); }), "size_bytes");
  m = sample_media(owner.id, day_one());
  m.uri = "";
  EXPECT_EQ(validation_field_of([&] { (void)store_->media().add(m); }), "uri");
}

TEST_P(repository_conformance, lengths_count_characters_and_the_maxima_round_trip) {
  auto e = sample_event(repeated("€", 500));
  e.description = "";
  e.location_name = repeated("🎉", 500);
  e.coordinates = geo_point{90, -180};
  const auto created = store_->events().create(e);
  const auto read = store_->events().get(created.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->title, e.title) << "500 three-byte characters fit";
  EXPECT_EQ(read->description, std::optional<std::string>("")) << "empty is not NULL";
  EXPECT_EQ(read->location_name, e.location_name);
  EXPECT_EQ(read->coordinates, e.coordinates);
  EXPECT_EQ(
      validation_field_of([&] { (void)store_->events().create(sample_event(repeated("€", 501))); }),
      "title");

  auto m = sample_media(created.id, day_one());
  m.uri = repeated("ü", 2048);
  m.mime_type = std::string(127, 'a') + "/" + std::string(127, 'b');
  m.checksum = repeated("é", 255);
  m.size_bytes = std::numeric_limits<std::int64_t>::max();
  const auto added = store_->media().add(m);
  const auto stored = store_->media().get(added.id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, added);
  EXPECT_EQ(stored->uri, m.uri);
  EXPECT_EQ(stored->mime_type, m.mime_type);
  EXPECT_EQ(stored->checksum, m.checksum);
  EXPECT_EQ(stored->size_bytes, m.size_bytes);

  m.size_bytes = 0;
  m.checksum = "";
  EXPECT_EQ(store_->media().add(m).size_bytes, 0);
  m.uri = repeated("ü", 2049);
  EXPECT_EQ(validation_field_of([&] { (void)store_->media().add(m); }), "uri");
}

TEST_P(repository_conformance,
       metadata_of_exactly_the_size_limit_is_stored_and_one_byte_more_is_not) {
  const auto limit = validation_limits{}.max_metadata_bytes;
  // {"k":"xxx…"} serialises to 8 bytes more than its string.
  nlohmann::json metadata = {{"k", std::string(limit - 8, 'x')}};
  ASSERT_EQ(metadata.dump().size(), limit);
  auto e = sample_event("at the limit");
  e.metadata = metadata;
  const auto created = store_->events().create(e);
  EXPECT_EQ(store_->events().get(created.id)->metadata, metadata);

  e.metadata = {{"k", std::string(limit - 7, 'x')}};
  EXPECT_EQ(validation_field_of([&] { (void)store_->events().create(e); }), "metadata");
  EXPECT_EQ(store_->events().count({}), 1) << "the refused one reached no table";
}

}  // namespace evstore::conformance

namespace evstore::conformance {
namespace {

connection open_with_cache(const backend_context& context, const database_handle& database,
                           std::size_t statement_cache_size) {
  auto options = options_for(context, database);
  options.connect.statement_cache_size = statement_cache_size;
  return open_connection(plugins_of(context), parse_database_url(database.url()), options);
}

}  // namespace

TEST_P(repository_conformance, a_repeated_statement_is_prepared_once_and_then_reused) {
  auto conn = open_with_cache(GetParam(), *database_, 64);
  auto events = test::events_on(conn);
  const auto created = events.create(sample_event("cached"));
  ASSERT_EQ(events.get(created.id), created);
  const auto before = conn.statement_cache();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(events.get(created.id), created);
  }
  const auto after = conn.statement_cache();
  EXPECT_EQ(after.misses, before.misses);
  EXPECT_EQ(after.hits, before.hits + 100);
  EXPECT_EQ(after.size, before.size);
  EXPECT_EQ(after.capacity, 64U);
}

TEST_P(repository_conformance, the_statement_cache_keeps_at_most_its_capacity) {
  auto conn = open_with_cache(GetParam(), *database_, 2);
  auto events = test::events_on(conn);
  const auto created = events.create(sample_event("evicted"));  // INSERT ... RETURNING
  ASSERT_EQ(events.get(created.id), created);                   // SELECT by id
  ASSERT_EQ(events.count({}), 1);                               // SELECT COUNT(*): evicts
  auto figures = conn.statement_cache();
  EXPECT_EQ(figures.size, 2U);
  EXPECT_EQ(figures.misses, 3U);
  EXPECT_EQ(figures.evictions, 1U);
  // The least recently used went: the SELECT by id is still there, the INSERT is not.
  ASSERT_EQ(events.get(created.id), created);
  EXPECT_EQ(conn.statement_cache().hits, figures.hits + 1);
  const auto second = events.create(sample_event("second"));
  EXPECT_EQ(events.get(second.id), second);
  figures = conn.statement_cache();
  EXPECT_EQ(figures.misses, 4U);
  EXPECT_EQ(figures.evictions, 2U);
}

TEST_P(repository_conformance, with_the_statement_cache_off_every_statement_still_runs) {
  auto conn = open_with_cache(GetParam(), *database_, 0);
  auto events = test::events_on(conn);
  auto media = test::media_on(conn);
  const auto created = events.create(sample_event("uncached"));
  ASSERT_EQ(events.get(created.id), created);
  const auto item = media.add(sample_media(created.id, day_one(1)));
  ASSERT_EQ(media.timeline(created.id, {}, {}, sort_direction::ascending).items,
            std::vector<evstore::media>{item});
  EXPECT_EQ(events.update(created.id, 1, {.title = "renamed"})->title, "renamed");
  EXPECT_TRUE(events.remove(created.id));
  EXPECT_FALSE(events.get(created.id));
  const auto figures = conn.statement_cache();
  EXPECT_EQ(figures.capacity, 0U);
  EXPECT_EQ(figures.size, 0U);
  EXPECT_EQ(figures.hits + figures.misses, 0U);
}

TEST_P(repository_conformance, a_failed_statement_is_not_kept_and_is_prepared_again_next_time) {
  auto conn = open_with_cache(GetParam(), *database_, 64);
  auto events = test::events_on(conn);
  auto first = sample_event("first");
  first.id = uuid::v7();
  (void)events.create(first);
  const auto before = conn.statement_cache();
  EXPECT_THROW((void)events.create(first), constraint_violation);
  const auto failed = conn.statement_cache();
  EXPECT_EQ(failed.failures, before.failures + 1);
  EXPECT_EQ(failed.size, before.size - 1);
  const auto second = events.create(sample_event("second"));
  EXPECT_EQ(events.get(second.id), second);
  // The INSERT is prepared again, the SELECT by id for the first time.
  EXPECT_EQ(conn.statement_cache().misses, failed.misses + 2);
}

TEST_P(repository_conformance, a_retried_transaction_runs_its_kept_statements_again) {
  auto wanted = sample_event("retried");
  wanted.id = uuid::v7();
  int attempts = 0;
  const auto stored = store_->transaction([&](transaction& tx) {
    auto e = tx.events().create(wanted);
    (void)tx.media().add(sample_media(e.id, day_one(2)));
    if (++attempts == 1) {
      throw transient_error("a simulated serialization failure", "40001", GetParam().name);
    }
    return e;
  });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(store_->events().get(*wanted.id), stored);
  EXPECT_EQ(store_->media().count_by_event(*wanted.id), 1);
}

}  // namespace evstore::conformance

namespace evstore::conformance {

TEST_P(repository_conformance, a_large_add_many_stores_every_text_exactly_as_given) {
  const auto e = store_->events().create(sample_event("bulk"));
  const std::vector<std::string> texts = {"tab\there",
                                          "new\nline",
                                          "carriage\rreturn",
                                          "back\\slash",
                                          "\\N",
                                          "\\\\N",
                                          "ünïcødé ✓ 日本",
                                          "'; DROP TABLE media; --",
                                          "a,b;c|d\"e'f",
                                          "trailing\\",
                                          "%_*?",
                                          std::string(255, 'x'),
                                          "\t\n\\\r mixed ",
                                          "{\"not\": \"json\"}",
                                          "NULL",
                                          "\\.",
                                          "abcdefg\\hijklmno\tp",
                                          "\x01\x07\x0b\x0c\x0e\x1f\x7f other controls",
                                          "end"};
  std::vector<new_media> items;
  for (std::size_t i = 0; i < 40; ++i) {
    auto m = sample_media(e.id, day_one(static_cast<long long>(i)));
    m.uri = texts[i % texts.size()];
    if (i % 3 == 0) {
      m.checksum = texts[(i + 1) % texts.size()];
      m.mime_type = "image/jpeg";
      m.size_bytes = static_cast<std::int64_t>(i) * 1000;
    }
    m.metadata = {{"text", texts[(i + 2) % texts.size()]}, {"n", i}};
    items.push_back(m);
  }
  const auto added = store_->media().add_many(items);
  ASSERT_EQ(added.size(), items.size());
  for (std::size_t i = 0; i < added.size(); ++i) {
    EXPECT_EQ(added[i].uri, items[i].uri);
    EXPECT_EQ(added[i].checksum, items[i].checksum);
    EXPECT_EQ(added[i].metadata, items[i].metadata);
    EXPECT_EQ(store_->media().get(added[i].id), added[i]) << "item " << i;
  }
}

TEST_P(repository_conformance, a_large_add_many_that_breaks_a_constraint_stores_nothing) {
  const auto e = store_->events().create(sample_event("bulk"));
  std::vector<new_media> items;
  for (int i = 0; i < 30; ++i) {
    items.push_back(sample_media(e.id, day_one(i)));
  }
  auto orphan = items;
  orphan[17].event_id = uuid::v7();  // no such event
  EXPECT_THROW((void)store_->media().add_many(orphan), constraint_violation);
  auto duplicate = items;
  duplicate[3].id = uuid::v7();
  duplicate[25].id = duplicate[3].id;
  EXPECT_THROW((void)store_->media().add_many(duplicate), constraint_violation);
  EXPECT_EQ(store_->media().count_by_event(e.id), 0);
  // The store still works after the failures.
  EXPECT_EQ(store_->media().add_many(items).size(), items.size());
  EXPECT_EQ(store_->media().count_by_event(e.id), 30);
}

}  // namespace evstore::conformance
