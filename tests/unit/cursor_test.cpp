#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <evstore/error.hpp>
#include <evstore/model.hpp>
#include <evstore/page.hpp>

namespace {

using namespace std::chrono_literals;
using evstore::cursor_position;
using evstore::timestamp;

constexpr std::string_view events_by_start = "events.start_time.asc";
constexpr std::string_view media_timeline = "media.timeline.asc";
constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

cursor_position sample_position() {
  return {timestamp{std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 18h + 123456us},
          evstore::uuid::parse("0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5")};
}

// The validation_error that `fn` throws; fails the test when it throws none.
evstore::validation_error refusal(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const evstore::validation_error& e) {
    return e;
  }
  ADD_FAILURE() << "no validation_error was thrown";
  return evstore::validation_error("", "");
}

void expect_cursor_refused(std::string_view kind, const std::string& cursor) {
  const auto e = refusal([&] { (void)evstore::decode_cursor(kind, cursor); });
  EXPECT_EQ(e.field(), "cursor") << testing::PrintToString(cursor);
  const std::string message = e.what();
  EXPECT_NE(message.find("malformed or tampered"), std::string::npos) << message;
  if (cursor.size() >= 4) {
    EXPECT_EQ(message.find(cursor), std::string::npos) << "the message echoes the cursor";
  }
}

}  // namespace

TEST(cursor, round_trips_its_position) {
  const std::vector<cursor_position> positions = {
      sample_position(),
      {timestamp{}, evstore::uuid()},
      {timestamp{-1us}, evstore::uuid::v7()},
      {timestamp{std::chrono::microseconds{std::numeric_limits<std::int64_t>::min()}},
       evstore::uuid::v7()},
      {timestamp{std::chrono::microseconds{std::numeric_limits<std::int64_t>::max()}},
       evstore::uuid::parse("ffffffff-ffff-ffff-ffff-ffffffffffff")},
  };
  for (const auto& position : positions) {
    for (const auto kind : {events_by_start, media_timeline, std::string_view("k")}) {
      const std::string cursor = evstore::encode_cursor(kind, position);
      EXPECT_EQ(evstore::decode_cursor(kind, cursor), position) << cursor;
    }
  }
}

TEST(cursor, is_url_safe_base64_without_padding) {
  const std::string cursor = evstore::encode_cursor(events_by_start, sample_position());
  EXPECT_FALSE(cursor.empty());
  EXPECT_LT(cursor.size(), 150U);
  for (const char c : cursor) {
    EXPECT_NE(base64url_alphabet.find(c), std::string_view::npos) << cursor;
  }
}

TEST(cursor, is_the_same_for_the_same_position) {
  EXPECT_EQ(evstore::encode_cursor(events_by_start, sample_position()),
            evstore::encode_cursor(events_by_start, sample_position()));
}

TEST(cursor, made_with_the_built_in_key_stays_valid_across_processes_and_releases) {
  // Made once by this code with the built-in key: a page link handed out before a restart or
  // an upgrade must still work after it.
  const std::string golden =
      "ARVldmVudHMuc3RhcnRfdGltZS5hc2MABhdoQVDqQAGQ9cQbKnw9jk-gscLT5PXEeMreykGsIFnceoUo01cV";
  const char* key = std::getenv("EVSTORE_CURSOR_KEY");
  if (key == nullptr || *key == '\0') {
    EXPECT_EQ(evstore::encode_cursor(events_by_start, sample_position()), golden);
    EXPECT_EQ(evstore::decode_cursor(events_by_start, golden), sample_position());
  } else {
    // Another key signs differently: the same cursor is refused.
    expect_cursor_refused(events_by_start, golden);
  }
}

TEST(cursor, every_single_character_change_is_refused) {
  const std::string cursor = evstore::encode_cursor(events_by_start, sample_position());
  std::string replacements(base64url_alphabet);
  replacements += "=+/. \n";
  replacements += '\0';
  replacements += '\xff';
  for (std::size_t i = 0; i < cursor.size(); ++i) {
    for (const char c : replacements) {
      if (c == cursor[i]) {
        continue;
      }
      std::string changed = cursor;
      changed[i] = c;
      SCOPED_TRACE("position " + std::to_string(i));
      expect_cursor_refused(events_by_start, changed);
    }
  }
}

TEST(cursor, a_shortened_or_lengthened_cursor_is_refused) {
  const std::string cursor = evstore::encode_cursor(events_by_start, sample_position());
  for (std::size_t size = 0; size < cursor.size(); ++size) {
    expect_cursor_refused(events_by_start, cursor.substr(0, size));
    expect_cursor_refused(events_by_start, cursor.substr(cursor.size() - size));
  }
  for (const char c : base64url_alphabet) {
    expect_cursor_refused(events_by_start, cursor + c);
  }
  expect_cursor_refused(events_by_start, cursor + "==");
  expect_cursor_refused(events_by_start, cursor + cursor);
}

TEST(cursor, made_for_one_listing_is_refused_by_another) {
  const std::string cursor = evstore::encode_cursor(events_by_start, sample_position());
  expect_cursor_refused(media_timeline, cursor);
  expect_cursor_refused("events.start_time.desc", cursor);
  expect_cursor_refused("events.start_time.as", cursor);
  expect_cursor_refused("EVENTS.START_TIME.ASC", cursor);
}

TEST(cursor, garbage_empty_and_very_long_strings_are_refused) {
  const std::vector<std::string> garbage = {
      "",
      "A",
      "AA",
      "AAAA",
      "====",
      "not a cursor",
      "eyJsYXN0IjoxfQ",  // base64 of a JSON object
      "AQ",              // the version byte alone
      std::string(84, 'A'),
      std::string(10'000, 'A'),
      std::string(1 << 20, '_'),
      "\xff\xfe\xfd\xfc",
      std::string("AAAA\0AAAA", 9),
  };
  for (const auto& cursor : garbage) {
    expect_cursor_refused(events_by_start, cursor);
  }
}

TEST(cursor, kind_must_be_short_printable_ascii) {
  EXPECT_EQ(refusal([] { (void)evstore::encode_cursor("", sample_position()); }).field(), "kind");
  EXPECT_EQ(refusal([] {
              (void)evstore::encode_cursor(std::string(65, 'k'), sample_position());
            }).field(),
            "kind");
  EXPECT_EQ(refusal([] { (void)evstore::encode_cursor("a kind", sample_position()); }).field(),
            "kind");
  EXPECT_NO_THROW((void)evstore::encode_cursor(std::string(64, 'k'), sample_position()));
}

TEST(cursor, page_limit_must_be_1_to_1000) {
  evstore::page_request request;
  EXPECT_NO_THROW(evstore::validate(request));
  request.limit = 1;
  EXPECT_NO_THROW(evstore::validate(request));
  request.limit = 1000;
  EXPECT_NO_THROW(evstore::validate(request));

  request.limit = 0;
  auto e = refusal([&] { evstore::validate(request); });
  EXPECT_EQ(e.field(), "limit");
  EXPECT_STREQ(e.what(), "limit: must be 1 to 1000, got 0");

  request.limit = 1001;
  e = refusal([&] { evstore::validate(request); });
  EXPECT_EQ(e.field(), "limit");
  EXPECT_STREQ(e.what(), "limit: must be 1 to 1000, got 1001");

  request.limit = std::numeric_limits<std::size_t>::max();
  EXPECT_EQ(refusal([&] { evstore::validate(request); }).field(), "limit");
}

TEST(cursor, a_page_without_next_cursor_is_the_last) {
  evstore::page<int> last{{1, 2, 3}, std::nullopt};
  EXPECT_FALSE(last.next_cursor.has_value());
  evstore::page<int> first{{1}, evstore::encode_cursor(events_by_start, sample_position())};
  ASSERT_TRUE(first.next_cursor.has_value());
  EXPECT_EQ(evstore::decode_cursor(events_by_start, *first.next_cursor), sample_position());
}
