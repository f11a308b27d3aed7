#pragma once

/// @file
/// The data model: events and the media captured during them (docs/schema.md lists every
/// column and its rules).
/// Values the database maintains (created_at, updated_at, version) are read, never written.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "evstore/export.hpp"

namespace evstore {

/// A point in time with microsecond precision, in UTC. Round-trips exactly on every backend.
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// A 128-bit identifier, written as 36 lower-case characters (8-4-4-4-12).
class EVSTORE_API uuid {
 public:
  /// The nil UUID (all zero).
  constexpr uuid() = default;
  explicit constexpr uuid(const std::array<std::uint8_t, 16>& bytes) : bytes_(bytes) {}

  /// A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so that ids
  /// made later sort later. Thread-safe; ids made by one process are strictly increasing.
  [[nodiscard]] static uuid v7();

  /// Parses the 36-character form, either case.
  /// @throws validation_error (field "id" unless `field` is given) for anything else.
  [[nodiscard]] static uuid parse(std::string_view text, std::string_view field = "id");

  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept {
    return bytes_;
  }
  [[nodiscard]] constexpr bool is_nil() const noexcept { return bytes_ == decltype(bytes_){}; }

  friend constexpr auto operator<=>(const uuid&, const uuid&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

enum class event_status : std::uint8_t { draft, scheduled, live, completed, cancelled };
enum class media_kind : std::uint8_t { image, video, audio, document };
enum class media_status : std::uint8_t { pending, processing, ready, failed };

/// "draft", "image", ... as stored in the database.
[[nodiscard]] EVSTORE_API std::string_view to_string(event_status status) noexcept;
[[nodiscard]] EVSTORE_API std::string_view to_string(media_kind kind) noexcept;
[[nodiscard]] EVSTORE_API std::string_view to_string(media_status status) noexcept;
/// The inverse of to_string. @throws validation_error naming `field` and the allowed values.
[[nodiscard]] EVSTORE_API event_status parse_event_status(std::string_view text,
                                                          std::string_view field = "status");
[[nodiscard]] EVSTORE_API media_kind parse_media_kind(std::string_view text,
                                                      std::string_view field = "kind");
[[nodiscard]] EVSTORE_API media_status parse_media_status(std::string_view text,
                                                          std::string_view field = "status");

/// A place on Earth: latitude -90..90, longitude -180..180 (degrees, WGS 84).
struct geo_point {
  double latitude = 0;
  double longitude = 0;
  friend bool operator==(const geo_point&, const geo_point&) = default;
};

/// An event as stored.
struct event {
  uuid id{};
  std::string title{};  ///< 1..500 characters
  std::optional<std::string> description{};
  event_status status = event_status::draft;
  timestamp start_time{};
  std::optional<timestamp> end_time{};  ///< >= start_time
  std::optional<std::string> location_name{};
  std::optional<geo_point> coordinates{};
  nlohmann::json metadata = nlohmann::json::object();  ///< always a JSON object
  timestamp created_at{};
  timestamp updated_at{};
  std::int64_t version = 0;  ///< starts at 1, +1 on every update
  friend bool operator==(const event&, const event&) = default;
};

/// What a caller gives to create an event.
struct new_event {
  std::optional<uuid> id{};  ///< a UUIDv7 is made when absent
  std::string title{};
  std::optional<std::string> description{};
  event_status status = event_status::draft;
  timestamp start_time{};
  std::optional<timestamp> end_time{};
  std::optional<std::string> location_name{};
  std::optional<geo_point> coordinates{};
  nlohmann::json metadata = nlohmann::json::object();
};

/// A partial update: only the fields that hold a value change. For a nullable field, an
/// engaged empty optional (`std::optional<std::string>{}` inside) sets it to null.
struct event_patch {
  std::optional<std::string> title{};
  std::optional<std::optional<std::string>> description{};
  std::optional<event_status> status{};
  std::optional<timestamp> start_time{};
  std::optional<std::optional<timestamp>> end_time{};
  std::optional<std::optional<std::string>> location_name{};
  std::optional<std::optional<geo_point>> coordinates{};
  std::optional<nlohmann::json> metadata{};
};

/// A media item as stored.
struct media {
  uuid id{};
  uuid event_id{};
  media_kind kind = media_kind::image;
  std::string uri{};  ///< 1..2048 characters
  std::optional<std::string> mime_type{};
  std::optional<std::int64_t> size_bytes{};  ///< >= 0
  std::optional<std::string> checksum{};
  timestamp captured_at{};
  media_status status = media_status::pending;
  nlohmann::json metadata = nlohmann::json::object();
  timestamp created_at{};
  timestamp updated_at{};
  friend bool operator==(const media&, const media&) = default;
};

/// What a caller gives to add a media item.
struct new_media {
  std::optional<uuid> id{};  ///< a UUIDv7 is made when absent
  uuid event_id{};
  media_kind kind = media_kind::image;
  std::string uri{};
  std::optional<std::string> mime_type{};
  std::optional<std::int64_t> size_bytes{};
  std::optional<std::string> checksum{};
  timestamp captured_at{};
  media_status status = media_status::pending;
  nlohmann::json metadata = nlohmann::json::object();
};

}  // namespace evstore
