#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <evstore/error.hpp>
#include <evstore/model.hpp>
#include <evstore/validation.hpp>

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using evstore::timestamp;

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

const std::string emoji = "\xf0\x9f\x98\x80";  // U+1F600, four bytes
const std::string e_acute = "\xc3\xa9";        // U+00E9, two bytes

const timestamp earliest{std::chrono::sys_days{std::chrono::year{1} / 1 / 1}};
const timestamp latest{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} + 24h - 1us};
const timestamp may_day{std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 18h};

std::string repeat(std::string_view piece, std::size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (std::size_t i = 0; i < times; ++i) {
    out += piece;
  }
  return out;
}

// Ill-formed UTF-8, each named for the trace.
struct bad_utf8 {
  std::string name;
  std::string bytes;
};

const std::vector<bad_utf8>& bad_utf8_cases() {
  static const std::vector<bad_utf8> cases = {
      {"overlong 2-byte slash", "a\xc0\xaf"},
      {"overlong 2-byte U+007F", "\xc1\xbf"},
      {"overlong 3-byte slash", "\xe0\x80\xaf"},
      {"overlong 3-byte U+07FF", "\xe0\x9f\xbf"},
      {"overlong 4-byte slash", "\xf0\x80\x80\xaf"},
      {"overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf"},
      {"high surrogate U+D800", "\xed\xa0\x80"},
      {"low surrogate U+DFFF", "\xed\xbf\xbf"},
      {"surrogate pair as CESU-8", "\xed\xa0\xbd\xed\xb8\x80"},
      {"truncated 2-byte at end", "ok\xc3"},
      {"truncated 3-byte at end", "ok\xe2\x82"},
      {"truncated 4-byte at end", "ok\xf0\x9f\x98"},
      {"truncated 3-byte before ASCII", "\xe2\x82z"},
      {"above U+10FFFF", "\xf4\x90\x80\x80"},
      {"lead byte F5", "\xf5\x80\x80\x80"},
      {"lead byte FF", "\xff"},
      {"lone continuation byte", "\x80"},
      {"continuation after a complete character", "\xc3\xa9\xa9"},
  };
  return cases;
}

evstore::new_event good_event() {
  evstore::new_event e;
  e.title = "Harbour festival";
  e.description = "Boats, music and food.";
  e.status = evstore::event_status::scheduled;
  e.start_time = may_day;
  e.end_time = may_day + 4h;
  e.location_name = "Quay 3";
  e.coordinates = evstore::geo_point{59.9, 10.7};
  e.metadata = json{{"organiser", "harbour office"}, {"tags", {"music", "food"}}};
  return e;
}

evstore::new_media good_media() {
  evstore::new_media m;
  m.event_id = evstore::uuid::v7();
  m.kind = evstore::media_kind::image;
  m.uri = "s3://bucket/photos/1.jpg";
  m.mime_type = "image/jpeg";
  m.size_bytes = 123'456;
  m.checksum = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  m.captured_at = may_day + 1h;
  m.metadata = json{{"camera", "X100V"}};
  return m;
}

evstore::event stored_event() {
  evstore::event e;
  e.id = evstore::uuid::v7();
  e.title = "Stored";
  e.description = "a description";
  e.status = evstore::event_status::live;
  e.start_time = may_day;
  e.end_time = may_day + 1h;
  e.location_name = "Hall";
  e.coordinates = evstore::geo_point{1, 2};
  e.metadata = json{{"a", 1}};
  e.created_at = may_day - 24h;
  e.updated_at = may_day - 1h;
  e.version = 3;
  return e;
}

// The field named by the validation_error `fn` throws, or nullopt when it throws nothing.
// Any other exception escapes and fails the test.
std::optional<std::string> refused_field(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const evstore::validation_error& e) {
    return e.field();
  }
  return std::nullopt;
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const evstore::validation_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no validation_error was thrown";
  return {};
}

// One rule of the table: change a valid value, then expect acceptance (field empty) or a
// refusal naming `field`.
template <typename T>
struct rule_case {
  std::string name;
  std::function<void(T&)> change;
  std::optional<std::string> field;
};

template <typename T>
void check_table(const std::vector<rule_case<T>>& table, T (*make)()) {
  for (const auto& row : table) {
    SCOPED_TRACE(row.name);
    T value = make();
    row.change(value);
    EXPECT_EQ(refused_field([&] { evstore::validate(value); }), row.field);
  }
}

const std::optional<std::string> accepted = std::nullopt;

}  // namespace

TEST(validation, a_complete_valid_event_and_media_are_accepted) {
  EXPECT_NO_THROW(evstore::validate(good_event()));
  EXPECT_NO_THROW(evstore::validate(good_media()));
  EXPECT_NO_THROW(evstore::validate(stored_event()));
}

TEST(validation, a_minimal_event_and_media_are_accepted) {
  evstore::new_event e;
  e.title = "x";
  e.start_time = may_day;
  EXPECT_NO_THROW(evstore::validate(e));
  evstore::new_media m;
  m.event_id = evstore::uuid::v7();
  m.uri = "u";
  m.captured_at = may_day;
  EXPECT_NO_THROW(evstore::validate(m));
}

TEST(validation, every_event_rule_accepts_its_boundary_and_refuses_past_it) {
  using e = evstore::new_event;
  const std::vector<rule_case<e>> table = {
      {"title of 500 four-byte emoji", [](e& v) { v.title = repeat(emoji, 500); }, accepted},
      {"title of 501 four-byte emoji", [](e& v) { v.title = repeat(emoji, 501); }, "title"},
      {"title of 500 ASCII letters", [](e& v) { v.title = repeat("a", 500); }, accepted},
      {"title of 501 ASCII letters", [](e& v) { v.title = repeat("a", 501); }, "title"},
      {"title of one character", [](e& v) { v.title = "a"; }, accepted},
      {"empty title", [](e& v) { v.title.clear(); }, "title"},
      {"title with NUL", [](e& v) { v.title = std::string("a\0b", 3); }, "title"},
      {"description of 100000 code points", [](e& v) { v.description = repeat(e_acute, 100'000); },
       accepted},
      {"description of 100001 code points", [](e& v) { v.description = repeat(e_acute, 100'001); },
       "description"},
      {"empty description", [](e& v) { v.description = ""; }, accepted},
      {"no description", [](e& v) { v.description.reset(); }, accepted},
      {"description with NUL", [](e& v) { v.description = std::string("\0", 1); }, "description"},
      {"location_name of 500 emoji", [](e& v) { v.location_name = repeat(emoji, 500); }, accepted},
      {"location_name of 501 emoji", [](e& v) { v.location_name = repeat(emoji, 501); },
       "location_name"},
      {"location_name with NUL", [](e& v) { v.location_name = std::string("x\0", 2); },
       "location_name"},
      {"no location_name", [](e& v) { v.location_name.reset(); }, accepted},
      {"start_time 0001-01-01T00:00:00",
       [](e& v) {
         v.start_time = earliest;
         v.end_time.reset();
       },
       accepted},
      {"start_time one microsecond before year 1",
       [](e& v) {
         v.start_time = earliest - 1us;
         v.end_time.reset();
       },
       "start_time"},
      {"start_time 9999-12-31T23:59:59.999999",
       [](e& v) {
         v.start_time = latest;
         v.end_time.reset();
       },
       accepted},
      {"start_time one microsecond after 9999",
       [](e& v) {
         v.start_time = latest + 1us;
         v.end_time.reset();
       },
       "start_time"},
      {"start_time at the Unix epoch", [](e& v) { v.start_time = timestamp{}; }, accepted},
      {"end_time equal to start_time", [](e& v) { v.end_time = v.start_time; }, accepted},
      {"end_time one microsecond before start_time", [](e& v) { v.end_time = v.start_time - 1us; },
       "end_time"},
      {"end_time at the last microsecond of 9999", [](e& v) { v.end_time = latest; }, accepted},
      {"end_time after 9999", [](e& v) { v.end_time = latest + 1us; }, "end_time"},
      {"end_time before year 1", [](e& v) { v.end_time = earliest - 1us; }, "end_time"},
      {"no end_time", [](e& v) { v.end_time.reset(); }, accepted},
      {"latitude 90",
       [](e& v) {
         v.coordinates = evstore::geo_point{90, 0};
       },
       accepted},
      {"latitude -90",
       [](e& v) {
         v.coordinates = evstore::geo_point{-90, 0};
       },
       accepted},
      {"latitude 90.0000001",
       [](e& v) {
         v.coordinates = evstore::geo_point{90.0000001, 0};
       },
       "coordinates.latitude"},
      {"latitude -90.0000001",
       [](e& v) {
         v.coordinates = evstore::geo_point{-90.0000001, 0};
       },
       "coordinates.latitude"},
      {"latitude NaN",
       [](e& v) {
         v.coordinates = evstore::geo_point{not_a_number, 0};
       },
       "coordinates.latitude"},
      {"latitude infinity",
       [](e& v) {
         v.coordinates = evstore::geo_point{infinity, 0};
       },
       "coordinates.latitude"},
      {"longitude 180",
       [](e& v) {
         v.coordinates = evstore::geo_point{0, 180};
       },
       accepted},
      {"longitude -180",
       [](e& v) {
         v.coordinates = evstore::geo_point{0, -180};
       },
       accepted},
      {"longitude 180.0000001",
       [](e& v) {
         v.coordinates = evstore::geo_point{0, 180.0000001};
       },
       "coordinates.longitude"},
      {"longitude -180.0000001",
       [](e& v) {
         v.coordinates = evstore::geo_point{0, -180.0000001};
       },
       "coordinates.longitude"},
      {"longitude NaN",
       [](e& v) {
         v.coordinates = evstore::geo_point{0, not_a_number};
       },
       "coordinates.longitude"},
      {"longitude minus infinity",
       [](e& v) {
         v.coordinates = evstore::geo_point{0, -infinity};
       },
       "coordinates.longitude"},
      {"no coordinates", [](e& v) { v.coordinates.reset(); }, accepted},
      {"metadata empty object", [](e& v) { v.metadata = json::object(); }, accepted},
      {"metadata nested", [](e& v) { v.metadata = json::parse(R"({"a":{"b":[1,{"c":null}]}})"); },
       accepted},
      {"metadata array",
       [](e& v) {
         v.metadata = json::array({1, 2});
       },
       "metadata"},
      {"metadata null", [](e& v) { v.metadata = nullptr; }, "metadata"},
      {"metadata string", [](e& v) { v.metadata = "{}"; }, "metadata"},
      {"metadata number", [](e& v) { v.metadata = 1; }, "metadata"},
      {"metadata NaN value",
       [](e& v) {
         v.metadata = json{{"x", not_a_number}};
       },
       "metadata"},
      {"metadata binary value",
       [](e& v) {
         v.metadata = json{{"x", json::binary({1, 2, 3})}};
       },
       "metadata"},
      {"metadata NUL in a value",
       [](e& v) {
         v.metadata = json{{"x", std::string("a\0", 2)}};
       },
       "metadata"},
      {"metadata NUL in a key",
       [](e& v) {
         v.metadata = json{{std::string("k\0", 2), 1}};
       },
       "metadata"},
      {"metadata NUL in a nested array",
       [](e& v) {
         v.metadata =
             json{{"x", json::array({json{{"y", json::array({"ok", std::string("\0", 1)})}}})}};
       },
       "metadata"},
      {"status cast from an unnamed integer",
       [](e& v) { v.status = static_cast<evstore::event_status>(42); }, "status"},
      {"nil id", [](e& v) { v.id = evstore::uuid(); }, "id"},
      {"given id", [](e& v) { v.id = evstore::uuid::v7(); }, accepted},
  };
  check_table(table, &good_event);
}

TEST(validation, every_media_rule_accepts_its_boundary_and_refuses_past_it) {
  using m = evstore::new_media;
  const std::vector<rule_case<m>> table = {
      {"uri of 2048 emoji", [](m& v) { v.uri = repeat(emoji, 2048); }, accepted},
      {"uri of 2049 emoji", [](m& v) { v.uri = repeat(emoji, 2049); }, "uri"},
      {"uri of 2049 ASCII letters", [](m& v) { v.uri = repeat("a", 2049); }, "uri"},
      {"uri of one character", [](m& v) { v.uri = "a"; }, accepted},
      {"empty uri", [](m& v) { v.uri.clear(); }, "uri"},
      {"uri with NUL", [](m& v) { v.uri = std::string("file:///a\0b", 11); }, "uri"},
      {"mime_type with a plus", [](m& v) { v.mime_type = "image/svg+xml"; }, accepted},
      {"mime_type vendor tree",
       [](m& v) {
         v.mime_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
       },
       accepted},
      {"mime_type in upper case", [](m& v) { v.mime_type = "Image/JPEG"; }, accepted},
      {"mime_type of 255 characters",
       [](m& v) { v.mime_type = repeat("a", 127) + "/" + repeat("b", 127); }, accepted},
      {"mime_type of 256 characters",
       [](m& v) { v.mime_type = repeat("a", 127) + "/" + repeat("b", 128); }, "mime_type"},
      {"mime_type with a 128-character type", [](m& v) { v.mime_type = repeat("a", 128) + "/b"; },
       "mime_type"},
      {"mime_type without a slash", [](m& v) { v.mime_type = "image"; }, "mime_type"},
      {"mime_type without a subtype", [](m& v) { v.mime_type = "image/"; }, "mime_type"},
      {"mime_type without a type", [](m& v) { v.mime_type = "/jpeg"; }, "mime_type"},
      {"mime_type with two slashes", [](m& v) { v.mime_type = "image/jpeg/x"; }, "mime_type"},
      {"mime_type with parameters", [](m& v) { v.mime_type = "text/plain; charset=utf-8"; },
       "mime_type"},
      {"mime_type with a space", [](m& v) { v.mime_type = "image/jp eg"; }, "mime_type"},
      {"mime_type starting with a hyphen", [](m& v) { v.mime_type = "-image/jpeg"; }, "mime_type"},
      {"mime_type with a non-ASCII letter", [](m& v) { v.mime_type = "image/j" + e_acute; },
       "mime_type"},
      {"empty mime_type", [](m& v) { v.mime_type = ""; }, "mime_type"},
      {"no mime_type", [](m& v) { v.mime_type.reset(); }, accepted},
      {"size_bytes 0", [](m& v) { v.size_bytes = 0; }, accepted},
      {"size_bytes largest int64",
       [](m& v) { v.size_bytes = std::numeric_limits<std::int64_t>::max(); }, accepted},
      {"size_bytes -1", [](m& v) { v.size_bytes = -1; }, "size_bytes"},
      {"no size_bytes", [](m& v) { v.size_bytes.reset(); }, accepted},
      {"checksum of 255 emoji", [](m& v) { v.checksum = repeat(emoji, 255); }, accepted},
      {"checksum of 256 characters", [](m& v) { v.checksum = repeat("f", 256); }, "checksum"},
      {"checksum with NUL", [](m& v) { v.checksum = std::string("ab\0", 3); }, "checksum"},
      {"no checksum", [](m& v) { v.checksum.reset(); }, accepted},
      {"captured_at 0001-01-01T00:00:00", [](m& v) { v.captured_at = earliest; }, accepted},
      {"captured_at before year 1", [](m& v) { v.captured_at = earliest - 1us; }, "captured_at"},
      {"captured_at 9999-12-31T23:59:59.999999", [](m& v) { v.captured_at = latest; }, accepted},
      {"captured_at after 9999", [](m& v) { v.captured_at = latest + 1us; }, "captured_at"},
      {"kind cast from an unnamed integer",
       [](m& v) { v.kind = static_cast<evstore::media_kind>(42); }, "kind"},
      {"status cast from an unnamed integer",
       [](m& v) { v.status = static_cast<evstore::media_status>(42); }, "status"},
      {"nil event_id", [](m& v) { v.event_id = evstore::uuid(); }, "event_id"},
      {"nil id", [](m& v) { v.id = evstore::uuid(); }, "id"},
      {"metadata array", [](m& v) { v.metadata = json::array(); }, "metadata"},
      {"metadata NUL in a value",
       [](m& v) {
         v.metadata = json{{"x", std::string("\0", 1)}};
       },
       "metadata"},
  };
  check_table(table, &good_media);
}

TEST(validation, a_stored_event_is_held_to_the_same_rules) {
  using e = evstore::event;
  const std::vector<rule_case<e>> table = {
      {"empty title", [](e& v) { v.title.clear(); }, "title"},
      {"title of 500 emoji", [](e& v) { v.title = repeat(emoji, 500); }, accepted},
      {"title of 501 emoji", [](e& v) { v.title = repeat(emoji, 501); }, "title"},
      {"end_time before start_time", [](e& v) { v.end_time = v.start_time - 1us; }, "end_time"},
      {"start_time after 9999",
       [](e& v) {
         v.start_time = latest + 1us;
         v.end_time.reset();
       },
       "start_time"},
      {"latitude 91",
       [](e& v) {
         v.coordinates = evstore::geo_point{91, 0};
       },
       "coordinates.latitude"},
      {"metadata array", [](e& v) { v.metadata = json::array(); }, "metadata"},
      {"description with NUL", [](e& v) { v.description = std::string("\0", 1); }, "description"},
      {"location_name of 501 characters", [](e& v) { v.location_name = repeat("x", 501); },
       "location_name"},
  };
  check_table(table, &stored_event);
}

TEST(validation, messages_name_the_field_and_say_what_is_wrong) {
  auto e = good_event();
  e.title = repeat(emoji, 501);
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "title: must be 1 to 500 characters, got 501");
  e.title.clear();
  EXPECT_EQ(message_of([&] { evstore::validate(e); }), "title: must be 1 to 500 characters, got 0");

  e = good_event();
  e.location_name = repeat("x", 501);
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "location_name: must be at most 500 characters, got 501");

  e = good_event();
  e.coordinates = evstore::geo_point{90.0000001, 0};
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "coordinates.latitude: must be a finite number from -90 to 90, got 90.0000001");
  e.coordinates = evstore::geo_point{0, not_a_number};
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "coordinates.longitude: must be a finite number from -180 to 180, got NaN");

  e = good_event();
  e.end_time = e.start_time - 1us;
  EXPECT_EQ(message_of([&] { evstore::validate(e); }), "end_time: must not be before start_time");

  e = good_event();
  e.start_time = latest + 1us;
  e.end_time.reset();
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "start_time: must be between 0001-01-01 and 9999-12-31 (UTC)");

  e = good_event();
  e.metadata = json::array();
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "metadata: must be a JSON object, got array");

  auto m = good_media();
  m.size_bytes = -1;
  EXPECT_EQ(message_of([&] { evstore::validate(m); }), "size_bytes: must be at least 0, got -1");
}

TEST(validation, utf8_errors_give_the_offset_and_never_echo_the_bad_bytes) {
  auto e = good_event();
  e.title = "ab\xff";
  const std::string message = message_of([&] { evstore::validate(e); });
  EXPECT_EQ(message, "title: must be valid UTF-8, found an invalid byte at offset 2");
  e.title = "ab" + std::string(1, '\0');
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "title: must not contain a NUL character, found one at offset 2");
}

TEST(validation, text_faults_are_found_at_every_offset_in_and_across_eight_byte_blocks) {
  // Text is read eight ASCII bytes at a time: place each fault at every offset of a few blocks.
  for (std::size_t at = 0; at < 26; ++at) {
    SCOPED_TRACE(at);
    auto e = good_event();
    e.title = repeat("x", 26);
    e.title[at] = '\0';
    EXPECT_EQ(message_of([&] { evstore::validate(e); }),
              "title: must not contain a NUL character, found one at offset " + std::to_string(at));
    e.title[at] = '\xff';
    EXPECT_EQ(message_of([&] { evstore::validate(e); }),
              "title: must be valid UTF-8, found an invalid byte at offset " + std::to_string(at));
    e.title = repeat("x", at) + e_acute + repeat("x", 25 - at);
    EXPECT_NO_THROW(evstore::validate(e));
  }
}

TEST(validation, ill_formed_utf8_is_reported_before_an_earlier_nul) {
  auto e = good_event();
  e.title = std::string("a\0bcdefghijklmnop\xff", 18);
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "title: must be valid UTF-8, found an invalid byte at offset 17");
  e = good_event();
  e.metadata = json{{"k", std::string("a\0bcdefghijklmnop\xff", 18)}};
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "metadata: the string at /k is not valid UTF-8");
}

TEST(validation, lengths_count_code_points_in_mixed_text_of_any_alignment) {
  // 500 characters: blocks of ASCII broken by two-, three- and four-byte characters.
  const std::string piece = "abcdefghi" + e_acute + "\xe2\x82\xac" + emoji;  // 12 characters
  const std::string text = repeat(piece, 41) + repeat("z", 8);               // 500
  auto e = good_event();
  e.title = text;
  EXPECT_NO_THROW(evstore::validate(e));
  e.title = text + e_acute;
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "title: must be 1 to 500 characters, got 501");
  e.title = "z" + text;
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "title: must be 1 to 500 characters, got 501");
}

TEST(validation, metadata_size_is_that_of_the_compact_serialisation_for_every_kind_of_value) {
  // Checking metadata serialises it as nlohmann::json::dump() does (the text the repositories
  // store): its size must be that of dump() for every kind of value and escape.
  std::string controls;
  for (char c = 1; c < 0x20; ++c) {
    controls += c;
  }
  const std::vector<json> documents = {
      json::object(),
      json{{"camera", "bench"}, {"sequence", 123}},
      json{{"escapes", "quote \" backslash \\ slash / tab \t newline \n"}, {"controls", controls}},
      json{{"del", "\x7f"}, {e_acute + emoji, "\xe2\x82\xac" + emoji}},
      json{{"integers",
            {0, -1, 42, std::numeric_limits<std::int64_t>::min(),
             std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::uint64_t>::max()}}},
      json{{"floats", {0.0, -0.0, 1.0, 0.1, 1.5e300, -2.5e-300, 1e100, 123456789.125}}},
      json{{"literals", {true, false, nullptr}}},
      json{{"nested", {{"empty object", json::object()}, {"empty array", json::array()}}},
           {"array", json::array({json::array({1, json{{"k", "v"}}}), json::object()})}},
      json{{"z", 1}, {"a", 2}, {"m", {{"y", 1}, {"b", 2}}}},  // keys in sorted order
  };
  for (const auto& metadata : documents) {
    SCOPED_TRACE(metadata.dump());
    const std::size_t size = metadata.dump().size();
    EXPECT_NO_THROW(evstore::validate_metadata(
        metadata, evstore::validation_limits{.max_metadata_bytes = size}));
    EXPECT_EQ(message_of([&] {
                evstore::validate_metadata(
                    metadata, evstore::validation_limits{.max_metadata_bytes = size - 1});
              }),
              "metadata: must be at most " + std::to_string(size - 1) +
                  " bytes serialised as JSON, got " + std::to_string(size));
  }
}

TEST(validation, is_valid_utf8_accepts_every_boundary_of_the_encoding) {
  const std::vector<std::string> good = {
      "",
      std::string("\0", 1),
      "\x7f",
      "\xc2\x80",          // U+0080
      "\xdf\xbf",          // U+07FF
      "\xe0\xa0\x80",      // U+0800
      "\xed\x9f\xbf",      // U+D7FF, just below the surrogates
      "\xee\x80\x80",      // U+E000, just above them
      "\xef\xbf\xbf",      // U+FFFF
      "\xf0\x90\x80\x80",  // U+10000
      "\xf4\x8f\xbf\xbf",  // U+10FFFF
      "plain ASCII, caf\xc3\xa9, \xe2\x82\xac, " + emoji,
  };
  for (const auto& text : good) {
    EXPECT_TRUE(evstore::is_valid_utf8(text)) << testing::PrintToString(text);
  }
}

TEST(validation, is_valid_utf8_refuses_overlongs_surrogates_truncation_and_out_of_range) {
  for (const auto& bad : bad_utf8_cases()) {
    EXPECT_FALSE(evstore::is_valid_utf8(bad.bytes)) << bad.name;
  }
}

TEST(validation, invalid_utf8_is_refused_in_every_event_text_field) {
  for (const auto& bad : bad_utf8_cases()) {
    SCOPED_TRACE(bad.name);
    auto e = good_event();
    e.title = bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "title");
    e = good_event();
    e.description = bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "description");
    e = good_event();
    e.location_name = bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "location_name");
    e = good_event();
    e.metadata = json{{bad.bytes, 1}};
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");
    e = good_event();
    e.metadata = json{{"k", bad.bytes}};
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");
    e = good_event();
    e.metadata = json{{"a", {{"b", json::array({"fine", json::object({{bad.bytes, "x"}})})}}}};
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");
    e = good_event();
    e.metadata = json{{"a", json::array({1, json::array({bad.bytes})})}};
    EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");

    auto row = stored_event();
    row.title = bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(row); }), "title");
    row = stored_event();
    row.metadata = json{{"k", bad.bytes}};
    EXPECT_EQ(refused_field([&] { evstore::validate(row); }), "metadata");
  }
}

TEST(validation, invalid_utf8_is_refused_in_every_media_text_field) {
  for (const auto& bad : bad_utf8_cases()) {
    SCOPED_TRACE(bad.name);
    auto m = good_media();
    m.uri = "file:///" + bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(m); }), "uri");
    m = good_media();
    m.mime_type = "image/" + bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(m); }), "mime_type");
    m = good_media();
    m.checksum = bad.bytes;
    EXPECT_EQ(refused_field([&] { evstore::validate(m); }), "checksum");
    m = good_media();
    m.metadata = json{{bad.bytes, "v"}};
    EXPECT_EQ(refused_field([&] { evstore::validate(m); }), "metadata");
    m = good_media();
    m.metadata = json{{"k", {{"deeper", bad.bytes}}}};
    EXPECT_EQ(refused_field([&] { evstore::validate(m); }), "metadata");
  }
}

TEST(validation, metadata_messages_point_at_the_bad_value) {
  auto e = good_event();
  e.metadata = json{{"a", {{"b/c", json::array({"ok", "bad\xff"})}}}};
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "metadata: the string at /a/b~1c/1 is not valid UTF-8");
  e.metadata = json{{"a", {{std::string("k\0", 2), 1}}}};
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "metadata: a key in /a contains a NUL character (\\u0000)");
  e.metadata = json{{std::string("\xc0\xaf"), 1}};
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "metadata: a key at the top level is not valid UTF-8");
}

TEST(validation, metadata_is_limited_to_64_kib_serialised_by_default) {
  // {"k":"..."} is 8 bytes of syntax around the value.
  const std::size_t limit = 64 * 1024;
  auto e = good_event();
  e.metadata = json{{"k", std::string(limit - 8, 'x')}};
  ASSERT_EQ(e.metadata.dump().size(), limit);
  EXPECT_NO_THROW(evstore::validate(e));

  e.metadata = json{{"k", std::string(limit - 7, 'x')}};
  EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");
  EXPECT_EQ(message_of([&] { evstore::validate(e); }),
            "metadata: must be at most 65536 bytes serialised as JSON, got 65537");

  auto m = good_media();
  m.metadata = e.metadata;
  EXPECT_EQ(refused_field([&] { evstore::validate(m); }), "metadata");
}

TEST(validation, metadata_size_counts_the_escaped_serialisation) {
  // Each control character serialises as \u0001: six bytes, not one.
  auto e = good_event();
  e.metadata = json{{"k", std::string(10, '\x01')}};
  evstore::validation_limits limits;
  limits.max_metadata_bytes = 8 + 60;
  EXPECT_NO_THROW(evstore::validate(e, limits));
  limits.max_metadata_bytes = 8 + 59;
  EXPECT_EQ(refused_field([&] { evstore::validate(e, limits); }), "metadata");
}

TEST(validation, metadata_limit_can_be_tuned) {
  auto e = good_event();
  e.metadata = json{{"k", std::string(100, 'x')}};  // 108 bytes serialised
  EXPECT_NO_THROW(evstore::validate(e, evstore::validation_limits{.max_metadata_bytes = 108}));
  EXPECT_EQ(message_of([&] {
              evstore::validate(e, evstore::validation_limits{.max_metadata_bytes = 107});
            }),
            "metadata: must be at most 107 bytes serialised as JSON, got 108");
  e.metadata = json{{"k", std::string(100'000, 'x')}};
  EXPECT_NO_THROW(
      evstore::validate(e, evstore::validation_limits{.max_metadata_bytes = 1024 * 1024}));

  auto m = good_media();
  m.metadata = json{{"k", std::string(100, 'x')}};
  EXPECT_EQ(refused_field([&] {
              evstore::validate(m, evstore::validation_limits{.max_metadata_bytes = 50});
            }),
            "metadata");
}

TEST(validation, metadata_nesting_is_limited_in_depth) {
  const auto nested = [](std::size_t levels) {
    // `levels` objects, counting the top-level one.
    json value = json::object();
    for (std::size_t i = 1; i < levels; ++i) {
      value = json{{"n", std::move(value)}};
    }
    return value;
  };
  auto e = good_event();
  e.metadata = nested(64);
  EXPECT_NO_THROW(evstore::validate(e));
  e.metadata = nested(65);
  EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");
  e.metadata = nested(10);
  EXPECT_NO_THROW(evstore::validate(e, evstore::validation_limits{.max_metadata_depth = 10}));
  EXPECT_EQ(refused_field(
                [&] { evstore::validate(e, evstore::validation_limits{.max_metadata_depth = 9}); }),
            "metadata");
  // Arrays count as levels too.
  e.metadata = json{{"a", json::array({json::array({json::array()})})}};
  EXPECT_NO_THROW(evstore::validate(e, evstore::validation_limits{.max_metadata_depth = 4}));
  EXPECT_EQ(refused_field(
                [&] { evstore::validate(e, evstore::validation_limits{.max_metadata_depth = 3}); }),
            "metadata");
}

TEST(validation, very_deep_metadata_is_refused_without_exhausting_the_stack) {
  json value = json::array();
  for (int i = 0; i < 100'000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(value));
    value = std::move(outer);
  }
  auto e = good_event();
  e.metadata = json{{"deep", std::move(value)}};
  EXPECT_EQ(refused_field([&] { evstore::validate(e); }), "metadata");
}

TEST(validation, apply_patch_keeps_every_field_an_empty_patch_leaves_out) {
  const auto row = stored_event();
  EXPECT_EQ(evstore::apply_patch(row, evstore::event_patch{}), row);
}

TEST(validation, apply_patch_sets_the_engaged_fields) {
  const auto row = stored_event();
  evstore::event_patch patch;
  patch.title = "New title";
  patch.description = std::optional<std::string>("new description");
  patch.status = evstore::event_status::completed;
  patch.start_time = may_day + 1h;
  patch.end_time = std::optional<timestamp>(may_day + 2h);
  patch.location_name = std::optional<std::string>("Main stage");
  patch.coordinates = std::optional<evstore::geo_point>(evstore::geo_point{-33.9, 18.4});
  patch.metadata = json{{"b", 2}};

  const auto patched = evstore::apply_patch(row, patch);
  EXPECT_EQ(patched.title, "New title");
  EXPECT_EQ(patched.description, "new description");
  EXPECT_EQ(patched.status, evstore::event_status::completed);
  EXPECT_EQ(patched.start_time, may_day + 1h);
  EXPECT_EQ(patched.end_time, may_day + 2h);
  EXPECT_EQ(patched.location_name, "Main stage");
  EXPECT_EQ(patched.coordinates, (evstore::geo_point{-33.9, 18.4}));
  EXPECT_EQ(patched.metadata, (json{{"b", 2}}));
  // What the database maintains is never patched.
  EXPECT_EQ(patched.id, row.id);
  EXPECT_EQ(patched.created_at, row.created_at);
  EXPECT_EQ(patched.updated_at, row.updated_at);
  EXPECT_EQ(patched.version, row.version);
}

TEST(validation, apply_patch_clears_nullable_fields_given_an_engaged_empty_optional) {
  const auto row = stored_event();
  evstore::event_patch patch;
  patch.description = std::optional<std::string>();
  patch.end_time = std::optional<timestamp>();
  patch.location_name = std::optional<std::string>();
  patch.coordinates = std::optional<evstore::geo_point>();

  const auto patched = evstore::apply_patch(row, patch);
  EXPECT_FALSE(patched.description.has_value());
  EXPECT_FALSE(patched.end_time.has_value());
  EXPECT_FALSE(patched.location_name.has_value());
  EXPECT_FALSE(patched.coordinates.has_value());
  EXPECT_EQ(patched.title, row.title);
  EXPECT_EQ(patched.status, row.status);
  EXPECT_EQ(patched.start_time, row.start_time);
  EXPECT_EQ(patched.metadata, row.metadata);
}

TEST(validation, apply_patch_then_validate_catches_a_patch_that_breaks_the_row) {
  const auto row = stored_event();  // ends one hour after it starts
  evstore::event_patch patch;
  patch.start_time = row.start_time + 2h;
  EXPECT_EQ(refused_field([&] { evstore::validate(evstore::apply_patch(row, patch)); }),
            "end_time");
  // Clearing the end in the same patch makes it valid.
  patch.end_time = std::optional<timestamp>();
  EXPECT_NO_THROW(evstore::validate(evstore::apply_patch(row, patch)));
}

TEST(validation, validation_errors_carry_the_validation_category) {
  auto e = good_event();
  e.title.clear();
  try {
    evstore::validate(e);
    FAIL() << "no validation_error was thrown";
  } catch (const evstore::error& error) {
    EXPECT_EQ(error.category(), evstore::error_category::validation);
  }
}
