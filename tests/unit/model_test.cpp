#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <evstore/error.hpp>
#include <evstore/model.hpp>

namespace {

std::uint64_t unix_ms_of(const evstore::uuid& id) {
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    ms = (ms << 8) | id.bytes()[i];
  }
  return ms;
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

template <typename Fn>
evstore::validation_error caught_validation_error(Fn&& fn) {
  try {
    fn();
  } catch (const evstore::validation_error& e) {
    return e;
  }
  ADD_FAILURE() << "no validation_error was thrown";
  return evstore::validation_error("", "");
}

}  // namespace

TEST(uuid, v7_has_version_7_and_the_rfc_variant) {
  for (int i = 0; i < 100; ++i) {
    const auto id = evstore::uuid::v7();
    EXPECT_EQ(id.bytes()[6] >> 4, 7);
    EXPECT_EQ(id.bytes()[8] >> 6, 0b10);
    EXPECT_EQ(id.to_string()[14], '7');
  }
}

TEST(uuid, v7_starts_with_the_current_unix_time_in_milliseconds) {
  const std::uint64_t before = now_ms();
  const auto id = evstore::uuid::v7();
  const std::uint64_t after = now_ms();
  // Ids made in one millisecond may carry into the next one, so allow a little slack.
  EXPECT_GE(unix_ms_of(id), before);
  EXPECT_LE(unix_ms_of(id), after + 5);
}

TEST(uuid, v7_is_not_nil_and_its_random_bits_differ) {
  const auto a = evstore::uuid::v7();
  const auto b = evstore::uuid::v7();
  EXPECT_FALSE(a.is_nil());
  EXPECT_NE(a, b);
}

TEST(uuid, v7_ids_from_four_threads_are_distinct_and_increase_within_each_thread) {
  constexpr std::size_t threads = 4;
  constexpr std::size_t per_thread = 25'000;
  std::vector<std::vector<evstore::uuid>> made(threads);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&made, t] {
      made[t].reserve(per_thread);
      for (std::size_t i = 0; i < per_thread; ++i) {
        made[t].push_back(evstore::uuid::v7());
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  std::set<evstore::uuid> all;
  for (const auto& ids : made) {
    for (std::size_t i = 1; i < ids.size(); ++i) {
      ASSERT_LT(ids[i - 1], ids[i]) << "at index " << i;
    }
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), threads * per_thread);
}

TEST(uuid, v7_ids_sort_the_same_as_bytes_and_as_text) {
  std::vector<evstore::uuid> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.push_back(evstore::uuid::v7());
  }
  for (std::size_t i = 1; i < ids.size(); ++i) {
    ASSERT_LT(ids[i - 1], ids[i]);
    ASSERT_LT(ids[i - 1].to_string(), ids[i].to_string());
  }
}

TEST(uuid, to_string_writes_lower_case_8_4_4_4_12) {
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  EXPECT_EQ(evstore::uuid(bytes).to_string(), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
  EXPECT_EQ(evstore::uuid().to_string(), "00000000-0000-0000-0000-000000000000");
}

TEST(uuid, parse_and_to_string_round_trip) {
  for (int i = 0; i < 100; ++i) {
    const auto id = evstore::uuid::v7();
    EXPECT_EQ(evstore::uuid::parse(id.to_string()), id);
  }
  const std::string text = "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5";
  EXPECT_EQ(evstore::uuid::parse(text).to_string(), text);
}

TEST(uuid, parse_accepts_upper_and_mixed_case) {
  EXPECT_EQ(evstore::uuid::parse("0190F5C4-1B2A-7C3D-8E4F-A0B1C2D3E4F5").to_string(),
            "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5");
  EXPECT_EQ(evstore::uuid::parse("0190f5C4-1b2A-7c3D-8e4F-a0B1c2D3e4F5").to_string(),
            "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5");
}

TEST(uuid, parse_accepts_the_nil_uuid) {
  EXPECT_TRUE(evstore::uuid::parse("00000000-0000-0000-0000-000000000000").is_nil());
}

TEST(uuid, parse_refuses_malformed_text_naming_the_field) {
  const std::vector<std::string> bad = {
      "",
      "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f",     // 35 characters
      "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5a",   // 37 characters
      "0190f5c41b2a7c3d8e4fa0b1c2d3e4f5",        // no hyphens
      "0190f5c4-1b2a-7c3d-8e4fa-0b1c2d3e4f5",    // hyphen misplaced
      "0190f5c4_1b2a_7c3d_8e4f_a0b1c2d3e4f5",    // wrong separator
      "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4g5",    // not hex
      "{0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5}",  // braces
      "0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f\xc3",
      std::string("0190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f\0", 36),
      " 190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5",
      "+190f5c4-1b2a-7c3d-8e4f-a0b1c2d3e4f5",
  };
  for (const auto& text : bad) {
    SCOPED_TRACE(text);
    EXPECT_THROW((void)evstore::uuid::parse(text), evstore::validation_error);
    EXPECT_EQ(caught_validation_error([&] { (void)evstore::uuid::parse(text); }).field(), "id");
    EXPECT_EQ(
        caught_validation_error([&] { (void)evstore::uuid::parse(text, "event_id"); }).field(),
        "event_id");
  }
}

TEST(uuid, parse_error_quotes_at_most_the_first_40_characters) {
  const std::string text = "0123456789012345678901234567890123456789" + std::string(1000, 'Z');
  const auto e = caught_validation_error([&] { (void)evstore::uuid::parse(text); });
  const std::string message = e.what();
  EXPECT_EQ(message.rfind("id: ", 0), 0U) << message;
  EXPECT_NE(message.find("0123456789012345678901234567890123456789"), std::string::npos);
  EXPECT_EQ(message.find('Z'), std::string::npos) << message;
}

TEST(uuid, parse_error_escapes_bytes_that_are_not_printable_ascii) {
  const auto e = caught_validation_error([] { (void)evstore::uuid::parse("\xff\n\x01"); });
  const std::string message = e.what();
  EXPECT_NE(message.find("\\xff\\x0a\\x01"), std::string::npos) << message;
  for (const char c : message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << message;
  }
}

TEST(model, enums_round_trip_through_their_database_names) {
  for (const auto status :
       {evstore::event_status::draft, evstore::event_status::scheduled, evstore::event_status::live,
        evstore::event_status::completed, evstore::event_status::cancelled}) {
    EXPECT_EQ(evstore::parse_event_status(evstore::to_string(status)), status);
  }
  for (const auto kind : {evstore::media_kind::image, evstore::media_kind::video,
                          evstore::media_kind::audio, evstore::media_kind::document}) {
    EXPECT_EQ(evstore::parse_media_kind(evstore::to_string(kind)), kind);
  }
  for (const auto status : {evstore::media_status::pending, evstore::media_status::processing,
                            evstore::media_status::ready, evstore::media_status::failed}) {
    EXPECT_EQ(evstore::parse_media_status(evstore::to_string(status)), status);
  }
}

TEST(model, enum_names_are_the_ones_the_schema_stores) {
  EXPECT_EQ(evstore::to_string(evstore::event_status::draft), "draft");
  EXPECT_EQ(evstore::to_string(evstore::event_status::scheduled), "scheduled");
  EXPECT_EQ(evstore::to_string(evstore::event_status::live), "live");
  EXPECT_EQ(evstore::to_string(evstore::event_status::completed), "completed");
  EXPECT_EQ(evstore::to_string(evstore::event_status::cancelled), "cancelled");
  EXPECT_EQ(evstore::to_string(evstore::media_kind::image), "image");
  EXPECT_EQ(evstore::to_string(evstore::media_kind::video), "video");
  EXPECT_EQ(evstore::to_string(evstore::media_kind::audio), "audio");
  EXPECT_EQ(evstore::to_string(evstore::media_kind::document), "document");
  EXPECT_EQ(evstore::to_string(evstore::media_status::pending), "pending");
  EXPECT_EQ(evstore::to_string(evstore::media_status::processing), "processing");
  EXPECT_EQ(evstore::to_string(evstore::media_status::ready), "ready");
  EXPECT_EQ(evstore::to_string(evstore::media_status::failed), "failed");
}

TEST(model, parsing_an_unknown_enum_name_names_the_field_and_the_allowed_values) {
  const auto status = caught_validation_error([] { (void)evstore::parse_event_status("Live"); });
  EXPECT_EQ(status.field(), "status");
  EXPECT_STREQ(status.what(),
               "status: must be one of draft, scheduled, live, completed, cancelled, got \"Live\"");

  const auto kind =
      caught_validation_error([] { (void)evstore::parse_media_kind("photo", "media.kind"); });
  EXPECT_EQ(kind.field(), "media.kind");
  EXPECT_STREQ(kind.what(),
               "media.kind: must be one of image, video, audio, document, got \"photo\"");

  const auto media_status = caught_validation_error([] { (void)evstore::parse_media_status(""); });
  EXPECT_EQ(media_status.field(), "status");
  EXPECT_STREQ(media_status.what(),
               "status: must be one of pending, processing, ready, failed, got \"\"");
}

TEST(model, parsing_an_enum_refuses_a_name_with_trailing_bytes) {
  EXPECT_THROW((void)evstore::parse_event_status(std::string_view("live\0", 5)),
               evstore::validation_error);
  EXPECT_THROW((void)evstore::parse_media_kind("image "), evstore::validation_error);
}
