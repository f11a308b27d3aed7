// The seed generator and the embedded seed catalog, without a database.

#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/migration.hpp>
#include <evstore/seed.hpp>
#include <evstore/seed_catalog.hpp>
#include <evstore/validation.hpp>

namespace {

using evstore::seed_catalog;
using evstore::seed_item;
using evstore::seed_plan;

std::int64_t us(evstore::timestamp t) {
  return t.time_since_epoch().count();
}

template <typename T>
std::string optional_text(const std::optional<T>& value) {
  return value ? fmt::format("{}", *value) : "null";
}

// Every field of a medium, as text.
std::string describe(const evstore::new_media& m) {
  return fmt::format("{} {} {} {} {} {} {} {} {} {}", m.id ? m.id->to_string() : "null",
                     m.event_id.to_string(), to_string(m.kind), m.uri, optional_text(m.mime_type),
                     optional_text(m.size_bytes), optional_text(m.checksum), us(m.captured_at),
                     to_string(m.status), m.metadata.dump());
}

// Every field of an event and its media, as text: two items are the same when these are.
std::string describe(const seed_item& item) {
  const auto& e = item.event;
  auto text = fmt::format(
      "{} {} {} {} {} {} {} {} {}\n", e.id ? e.id->to_string() : "null", e.title,
      optional_text(e.description), to_string(e.status), us(e.start_time),
      e.end_time ? std::to_string(us(*e.end_time)) : "null", optional_text(e.location_name),
      e.coordinates ? fmt::format("{},{}", e.coordinates->latitude, e.coordinates->longitude)
                    : "null",
      e.metadata.dump());
  for (const auto& m : item.media) {
    text += describe(m) + "\n";
  }
  return text;
}

seed_plan plan(std::uint64_t seed, std::int64_t events, std::int64_t media_per_event) {
  return seed_catalog::builtin().plan({"test", "", events, media_per_event}, seed);
}

}  // namespace

TEST(seed_generator, the_same_seed_gives_the_same_items) {
  const auto p = plan(7, 50, 8);
  for (std::int64_t i = 0; i < p.events; ++i) {
    EXPECT_EQ(describe(generate_seed_item(p, i)), describe(generate_seed_item(p, i)));
  }
}

TEST(seed_generator, different_seeds_give_different_items) {
  const auto a = plan(1, 20, 3);
  const auto b = plan(2, 20, 3);
  for (std::int64_t i = 0; i < a.events; ++i) {
    const auto x = generate_seed_item(a, i);
    const auto y = generate_seed_item(b, i);
    EXPECT_NE(*x.event.id, *y.event.id);
    EXPECT_NE(describe(x), describe(y));
  }
}

// The algorithm is specified to the bit (mt19937_64, SplitMix64, our own range mappings), so
// its output is pinned: a change of compiler, standard library or platform must not move it,
// and a change of the generator must be deliberate (it changes every seeded database).
TEST(seed_generator, output_is_pinned_so_that_every_platform_generates_the_same_rows) {
  const auto item = generate_seed_item(plan(1, 20, 10), 0);
  EXPECT_EQ(item.event.id->to_string(), "0194bd32-a340-8ee7-aeed-3bd319b6608c");
  EXPECT_EQ(item.event.title, "Spring Rust Festival 2025");
  EXPECT_EQ(item.media.at(9).id->to_string(), "0194be1b-fe42-8c68-b738-3177ce094c5c");
  EXPECT_EQ(evstore::sha256_hex(describe(item)),
            "0d98c3dcd349c12596a46445c3dcfd5c228cd18984fc1e714031bf0cfc71e172");
}

TEST(seed_generator, an_event_does_not_depend_on_how_many_events_are_planned) {
  EXPECT_EQ(describe(generate_seed_item(plan(3, 10, 4), 7)),
            describe(generate_seed_item(plan(3, 2000, 4), 7)));
}

TEST(seed_generator, more_media_per_event_only_adds_media) {
  const auto few = generate_seed_item(plan(3, 10, 5), 4);
  const auto many = generate_seed_item(plan(3, 10, 20), 4);
  ASSERT_EQ(few.media.size(), 5U);
  ASSERT_EQ(many.media.size(), 20U);
  for (std::size_t j = 0; j < few.media.size(); ++j) {
    EXPECT_EQ(describe(few.media[j]), describe(many.media[j]));
  }
}

TEST(seed_generator, items_are_valid_and_agree_with_the_timeline) {
  const auto p = plan(11, 400, 6);
  std::set<evstore::event_status> statuses;
  std::set<evstore::media_kind> kinds;
  std::set<evstore::media_status> media_statuses;
  std::set<evstore::uuid> ids;
  int without_coordinates = 0;
  for (std::int64_t i = 0; i < p.events; ++i) {
    const auto item = generate_seed_item(p, i);
    const auto& e = item.event;
    SCOPED_TRACE(describe(item));
    EXPECT_NO_THROW(evstore::validate(e));
    statuses.insert(e.status);
    without_coordinates += e.coordinates ? 0 : 1;
    ASSERT_TRUE(e.id);
    EXPECT_TRUE(ids.insert(*e.id).second) << "duplicate id";
    // UUIDv8: version nibble 8, variant 10.
    EXPECT_EQ(e.id->bytes()[6] >> 4U, 8);
    EXPECT_EQ(e.id->bytes()[8] >> 6U, 2);
    const auto end = e.end_time.value_or(e.start_time);
    switch (e.status) {
      case evstore::event_status::completed:
        EXPECT_LE(end, p.timeline.now);
        break;
      case evstore::event_status::live:
        EXPECT_LE(e.start_time, p.timeline.now);
        EXPECT_GT(end, p.timeline.now);
        break;
      case evstore::event_status::scheduled:
      case evstore::event_status::draft:
        EXPECT_GT(e.start_time, p.timeline.now);
        break;
      case evstore::event_status::cancelled:
        break;
    }
    ASSERT_EQ(item.media.size(), 6U);
    for (const auto& m : item.media) {
      EXPECT_NO_THROW(evstore::validate(m));
      EXPECT_EQ(m.event_id, *e.id);
      EXPECT_GE(m.captured_at, e.start_time);
      if (e.end_time) {
        EXPECT_LE(m.captured_at, *e.end_time);
      }
      EXPECT_TRUE(ids.insert(*m.id).second) << "duplicate id";
      kinds.insert(m.kind);
      media_statuses.insert(m.status);
    }
  }
  EXPECT_EQ(statuses.size(), 5U) << "every event status";
  EXPECT_EQ(kinds.size(), 4U) << "every media kind";
  EXPECT_EQ(media_statuses.size(), 4U) << "every media status";
  EXPECT_GT(without_coordinates, 0) << "some events are online or have no place";
}

TEST(seed_generator, refuses_an_index_outside_the_plan) {
  EXPECT_THROW((void)generate_seed_item(plan(1, 3, 1), 3), evstore::validation_error);
  EXPECT_THROW((void)generate_seed_item(plan(1, 3, 1), -1), evstore::validation_error);
}

TEST(seed_catalog, the_embedded_files_define_the_three_profiles_and_the_samples) {
  const auto catalog = seed_catalog::builtin();
  EXPECT_EQ(catalog.default_profile, "small");
  const std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected{
      {"small", {20, 10}}, {"demo", {200, 25}}, {"load", {2000, 50}}};
  for (const auto& [name, sizes] : expected) {
    const auto& profile = catalog.profile(name);
    EXPECT_EQ(profile.events, sizes.first) << name;
    EXPECT_EQ(profile.media_per_event, sizes.second) << name;
  }
  std::set<evstore::event_status> statuses;
  for (const auto& sample : catalog.samples) {
    EXPECT_TRUE(sample.event.id);
    statuses.insert(sample.event.status);
  }
  EXPECT_EQ(statuses.size(), 5U) << "the samples cover every status";
}

TEST(seed_catalog, an_unknown_profile_is_a_config_error_naming_the_known_ones) {
  try {
    (void)seed_catalog::builtin().profile("huge");
    FAIL() << "no such profile";
  } catch (const evstore::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("demo, load, small"), std::string::npos) << e.what();
  }
}

TEST(seed_catalog, a_malformed_file_is_a_config_error_naming_the_file_and_entry) {
  const std::string profiles =
      R"({"default_profile": "small", "default_seed": 1,
          "timeline": {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z",
                       "now": "2025-06-01T00:00:00Z"},
          "profiles": {"small": {"events": 1, "media_per_event": 1}}})";
  EXPECT_NO_THROW((void)seed_catalog::parse(profiles, "[]"));
  EXPECT_THROW((void)seed_catalog::parse("{", "[]"), evstore::config_error);
  try {
    (void)seed_catalog::parse(profiles, R"([{"id": "5eed0000-0000-8000-8000-000000000001",
        "title": "", "status": "draft", "start_time": "2025-01-01T00:00:00Z"}])");
    FAIL() << "an empty title";
  } catch (const evstore::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("sample_events.json event 1"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("title"), std::string::npos) << e.what();
  }
  try {
    (void)seed_catalog::parse(profiles, R"([{"id": "5eed0000-0000-8000-8000-000000000001",
        "title": "x", "status": "draft", "start_time": "2025-01-01 00:00"}])");
    FAIL() << "a malformed time";
  } catch (const evstore::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("YYYY-MM-DDTHH:MM:SS"), std::string::npos) << e.what();
  }
}
