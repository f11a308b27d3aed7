#include "evstore/validation.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/error.hpp"
#include "validated.hpp"

namespace evstore {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_title_chars = 500;
constexpr std::size_t max_description_chars = 100'000;
constexpr std::size_t max_location_name_chars = 500;
constexpr std::size_t max_uri_chars = 2048;
constexpr std::size_t max_mime_type_chars = 255;
constexpr std::size_t max_checksum_chars = 255;
// RFC 6838 section 4.2: each of type and subtype is 1 to 127 characters.
constexpr std::size_t max_mime_name_chars = 127;
// Paths quoted in metadata messages are cut here, so one huge key cannot flood a log.
constexpr std::size_t max_quoted_path_bytes = 200;

// Both backends (and ISO 8601 text without a sign) handle years 1 to 9999 alike; PostgreSQL
// goes further back, SQLite's date functions do not.
constexpr timestamp earliest_time{
    std::chrono::sys_days{std::chrono::year{1} / std::chrono::January / 1}};
constexpr timestamp latest_time{
    std::chrono::sys_days{std::chrono::year{9999} / std::chrono::December / 31} +
    std::chrono::days{1} - std::chrono::microseconds{1}};

[[noreturn]] void refuse(std::string_view field, std::string_view what) {
  std::string message(field);
  message += ": ";
  message += what;
  throw validation_error(std::string(field), message);
}

// The length of the well-formed UTF-8 sequence that starts at text[i], a byte of 0x80 or
// more, or 0 when the bytes there are ill-formed.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const auto in = [](unsigned char c, unsigned char low, unsigned char high) {
    return c >= low && c <= high;
  };
  const unsigned char c = byte(i);
  // The allowed range of the second byte (RFC 3629 section 4) excludes overlong forms,
  // surrogates and code points above U+10FFFF; later bytes are plain continuations.
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (in(c, 0xc2, 0xdf)) {
    length = 2;
  } else if (c == 0xe0) {
    length = 3;
    low = 0xa0;
  } else if (c == 0xed) {
    length = 3;
    high = 0x9f;
  } else if (in(c, 0xe1, 0xef)) {
    length = 3;
  } else if (c == 0xf0) {
    length = 4;
    low = 0x90;
  } else if (in(c, 0xf1, 0xf3)) {
    length = 4;
  } else if (c == 0xf4) {
    length = 4;
    high = 0x8f;
  } else {
    return 0;
  }
  if (i + 1 >= text.size() || !in(byte(i + 1), low, high)) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (i + k >= text.size() || !in(byte(i + k), 0x80, 0xbf)) {
      return 0;
    }
  }
  return length;
}

constexpr std::uint64_t high_bits = 0x8080808080808080;
constexpr std::uint64_t low_bits = 0x0101010101010101;

// What one pass over a text found.
struct text_scan {
  std::size_t invalid_at = std::string_view::npos;  // the first byte that breaks UTF-8
  std::size_t nul_at = std::string_view::npos;      // the first NUL character
  std::size_t code_points = 0;                      // counted up to invalid_at
};

// Checks UTF-8, finds NUL and counts code points in one pass. Most text is ASCII, so it
// looks at eight bytes at a time while none of them has its high bit set.
text_scan scan_text(std::string_view text) noexcept {
  text_scan scan;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + sizeof(std::uint64_t) <= text.size()) {
      std::uint64_t word = 0;
      std::memcpy(&word, text.data() + i, sizeof word);
      if ((word & high_bits) == 0) {
        // Below 0x80, a byte has its high bit set in word - low_bits only when it is zero or
        // a zero byte below it borrowed from it: true exactly when one of them is zero.
        if (((word - low_bits) & high_bits) != 0 && scan.nul_at == std::string_view::npos) {
          scan.nul_at = text.find('\0', i);
        }
        scan.code_points += sizeof word;
        i += sizeof word;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    if (c >= 0x80) {
      length = utf8_sequence_length(text, i);
      if (length == 0) {
        scan.invalid_at = i;
        return scan;
      }
    } else if (c == 0 && scan.nul_at == std::string_view::npos) {
      scan.nul_at = i;
    }
    ++scan.code_points;
    i += length;
  }
  return scan;
}

// Valid UTF-8 without NUL (what PostgreSQL's text type stores), of min_chars to max_chars
// code points.
void check_text(std::string_view field, std::string_view text, std::size_t min_chars,
                std::size_t max_chars) {
  const auto scan = scan_text(text);
  if (scan.invalid_at != std::string_view::npos) {
    refuse(field, "must be valid UTF-8, found an invalid byte at offset " +
                      std::to_string(scan.invalid_at));
  }
  if (scan.nul_at != std::string_view::npos) {
    refuse(field,
           "must not contain a NUL character, found one at offset " + std::to_string(scan.nul_at));
  }
  const std::size_t count = scan.code_points;
  if (count < min_chars || count > max_chars) {
    const std::string range = min_chars == 0
                                  ? "at most " + std::to_string(max_chars)
                                  : std::to_string(min_chars) + " to " + std::to_string(max_chars);
    refuse(field, "must be " + range + " characters, got " + std::to_string(count));
  }
}

void check_time(std::string_view field, timestamp value) {
  if (value < earliest_time || value > latest_time) {
    refuse(field, "must be between 0001-01-01 and 9999-12-31 (UTC)");
  }
}

std::string format_number(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return std::string(buffer.data(), result.ptr);
}

void check_degrees(std::string_view field, double value, double bound) {
  // Written so that NaN, which compares false with everything, fails too.
  if (!(value >= -bound && value <= bound)) {
    refuse(field, "must be a finite number from " + format_number(-bound) + " to " +
                      format_number(bound) + ", got " + format_number(value));
  }
}

void check_coordinates(const std::optional<geo_point>& point) {
  if (point) {
    check_degrees("coordinates.latitude", point->latitude, 90);
    check_degrees("coordinates.longitude", point->longitude, 180);
  }
}

void check_not_nil(std::string_view field, const uuid& id) {
  if (id.is_nil()) {
    refuse(field, "must not be the nil UUID");
  }
}

// An enum holds a named value unless someone cast an integer into it; such a value would
// reach the database as "unknown" and fail differently on each backend.
template <typename Enum>
void check_enum(std::string_view field, Enum value) {
  if (to_string(value) == "unknown") {
    refuse(field, "must be a named value, got " + std::to_string(static_cast<unsigned>(value)));
  }
}

// --- metadata -----------------------------------------------------------------------------

// One open object or array in the walk over metadata, with the member being looked at.
struct json_frame {
  json::const_iterator at;
  json::const_iterator end;
  bool is_object = false;
  std::size_t index = 0;
};

// The JSON Pointer (RFC 6901) of the member each frame is looking at, cut to a readable size.
std::string pointer_to(const std::vector<json_frame>& frames, std::size_t count) {
  std::string path;
  for (std::size_t i = 0; i < count; ++i) {
    path += '/';
    if (frames[i].is_object) {
      for (const char ch : frames[i].at.key()) {
        path += ch == '~' ? "~0" : ch == '/' ? "~1" : std::string(1, ch);
      }
    } else {
      path += std::to_string(frames[i].index);
    }
  }
  if (path.size() > max_quoted_path_bytes) {
    std::size_t cut = max_quoted_path_bytes;
    while (cut > 0 && (static_cast<unsigned char>(path[cut]) & 0xc0) == 0x80) {
      --cut;
    }
    path.resize(cut);
    path += "...";
  }
  return path;
}

std::string where(const std::vector<json_frame>& frames, std::size_t count) {
  return count == 0 ? std::string("at the top level") : "at " + pointer_to(frames, count);
}

// What is wrong with a string of metadata, if anything.
enum class string_fault : std::uint8_t { none, invalid_utf8, nul };

// Appends the escape sequence of `c` (a control character, a quote or a backslash), as
// nlohmann::json::dump() writes it: short forms where JSON has them, else \u00XX in lower case.
void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default: {
      constexpr std::string_view hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
}

// Appends `text` to `out` as a quoted JSON string, byte for byte as nlohmann::json::dump()
// writes it (UTF-8 kept as it is), and says what is wrong with it: ill-formed UTF-8 first,
// as it is found anywhere in the string, then a NUL character.
string_fault append_string(std::string& out, std::string_view text) {
  out += '"';
  auto fault = string_fault::none;
  std::size_t written = 0;  // text before this offset is in `out` already
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        return string_fault::invalid_utf8;
      }
      i += length;
    } else if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
    } else {
      out.append(text.substr(written, i - written));
      append_escape(out, c);
      if (c == 0) {
        fault = string_fault::nul;
      }
      written = ++i;
    }
  }
  out.append(text.substr(written));
  out += '"';
  return fault;
}

// `at()` says where the string is; called only to explain a refusal, since building a JSON
// pointer for every member of every item would cost more than checking it.
template <typename Where>
void check_metadata_string(string_fault fault, std::string_view what, const Where& at) {
  if (fault == string_fault::invalid_utf8) {
    refuse("metadata", std::string(what) + " " + at() + " is not valid UTF-8");
  }
  if (fault == string_fault::nul) {
    refuse("metadata", std::string(what) + " " + at() + " contains a NUL character (\\u0000)");
  }
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
  std::array<char, 24> digits{};
  const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), written.ptr);
}

// Checks every member of `root` and writes the whole object to `out`, byte for byte as
// nlohmann::json::dump() writes it, so that checking and serialising are one walk. Walks the
// tree without recursion, so that no input can exhaust the stack here.
void write_metadata_members(const json& root, const validation_limits& limits, std::string& out) {
  std::vector<json_frame> frames;
  out += '{';
  frames.push_back({root.cbegin(), root.cend(), true});
  while (!frames.empty()) {
    json_frame& frame = frames.back();
    if (frame.at == frame.end) {
      out += frame.is_object ? '}' : ']';
      frames.pop_back();
      if (!frames.empty()) {
        ++frames.back().at;
        ++frames.back().index;
      }
      continue;
    }
    if (frame.index != 0) {
      out += ',';
    }
    if (frame.is_object) {
      check_metadata_string(append_string(out, frame.at.key()), "a key", [&] {
        return frames.size() == 1 ? std::string("at the top level")
                                  : "in " + pointer_to(frames, frames.size() - 1);
      });
      out += ':';
    }
    const json& value = *frame.at;
    switch (value.type()) {
      case json::value_t::object:
      case json::value_t::array:
        if (frames.size() + 1 > limits.max_metadata_depth) {
          refuse("metadata", "must not nest objects and arrays deeper than " +
                                 std::to_string(limits.max_metadata_depth) + " levels, " +
                                 where(frames, frames.size()));
        }
        out += value.is_object() ? '{' : '[';
        frames.push_back({value.cbegin(), value.cend(), value.is_object()});
        continue;
      case json::value_t::string:
        check_metadata_string(append_string(out, value.get_ref<const std::string&>()), "the string",
                              [&] { return where(frames, frames.size()); });
        break;
      case json::value_t::number_float:
        if (!std::isfinite(value.get<double>())) {
          refuse("metadata", "numbers must be finite, found " + format_number(value.get<double>()) +
                                 " " + where(frames, frames.size()));
        }
        // nlohmann's own shortest form, which differs from std::to_chars' ("1.0", "1e+100").
        out += value.dump();
        break;
      case json::value_t::number_integer:
        append_integer(out, value.get<std::int64_t>());
        break;
      case json::value_t::number_unsigned:
        append_integer(out, value.get<std::uint64_t>());
        break;
      case json::value_t::boolean:
        out += value.get<bool>() ? "true" : "false";
        break;
      case json::value_t::null:
        out += "null";
        break;
      case json::value_t::binary:
      case json::value_t::discarded:
        refuse("metadata", "must hold only JSON values, found a " + std::string(value.type_name()) +
                               " value " + where(frames, frames.size()));
    }
    ++frame.at;
    ++frame.index;
  }
}

std::string checked_metadata_text(const json& metadata, const validation_limits& limits) {
  if (!metadata.is_object()) {
    refuse("metadata", std::string("must be a JSON object, got ") + metadata.type_name());
  }
  if (limits.max_metadata_depth == 0) {
    refuse("metadata", "must not nest objects and arrays deeper than 0 levels, at the top level");
  }
  std::string text;
  write_metadata_members(metadata, limits, text);
  // Measured after the walk, so that a bad value anywhere is reported before the size.
  if (text.size() > limits.max_metadata_bytes) {
    refuse("metadata", "must be at most " + std::to_string(limits.max_metadata_bytes) +
                           " bytes serialised as JSON, got " + std::to_string(text.size()));
  }
  return text;
}

// --- media type ---------------------------------------------------------------------------

bool is_mime_first_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_mime_char(char c) noexcept {
  constexpr std::string_view others = "!#$&-^_.+";
  return is_mime_first_char(c) || others.find(c) != std::string_view::npos;
}

// RFC 6838 section 4.2, restricted-name.
bool is_mime_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > max_mime_name_chars || !is_mime_first_char(name.front())) {
    return false;
  }
  for (const char c : name) {
    if (!is_mime_char(c)) {
      return false;
    }
  }
  return true;
}

void check_mime_type(std::string_view text) {
  check_text("mime_type", text, 0, max_mime_type_chars);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || !is_mime_name(text.substr(0, slash)) ||
      !is_mime_name(text.substr(slash + 1))) {
    refuse("mime_type",
           "must be of the form type/subtype, such as image/jpeg, with the characters "
           "RFC 6838 allows and no parameters");
  }
}

// --- events -------------------------------------------------------------------------------

// The rules shared by a new event and a stored one, whose fields have the same names; returns
// the metadata's text.
template <typename Event>
std::string check_event_fields(const Event& value, const validation_limits& limits) {
  check_text("title", value.title, 1, max_title_chars);
  if (value.description) {
    check_text("description", *value.description, 0, max_description_chars);
  }
  check_enum("status", value.status);
  check_time("start_time", value.start_time);
  if (value.end_time) {
    check_time("end_time", *value.end_time);
    if (*value.end_time < value.start_time) {
      refuse("end_time", "must not be before start_time");
    }
  }
  if (value.location_name) {
    check_text("location_name", *value.location_name, 0, max_location_name_chars);
  }
  check_coordinates(value.coordinates);
  return checked_metadata_text(value.metadata, limits);
}

}  // namespace

namespace detail {

std::string validated_metadata_text(const nlohmann::json& metadata,
                                    const validation_limits& limits) {
  return checked_metadata_text(metadata, limits);
}

std::string validated_metadata_text(const new_event& value, const validation_limits& limits) {
  if (value.id) {
    check_not_nil("id", *value.id);
  }
  return check_event_fields(value, limits);
}

std::string validated_metadata_text(const event& value, const validation_limits& limits) {
  return check_event_fields(value, limits);
}

std::string validated_metadata_text(const new_media& value, const validation_limits& limits) {
  if (value.id) {
    check_not_nil("id", *value.id);
  }
  check_not_nil("event_id", value.event_id);
  check_enum("kind", value.kind);
  check_text("uri", value.uri, 1, max_uri_chars);
  if (value.mime_type) {
    check_mime_type(*value.mime_type);
  }
  if (value.size_bytes && *value.size_bytes < 0) {
    refuse("size_bytes", "must be at least 0, got " + std::to_string(*value.size_bytes));
  }
  if (value.checksum) {
    check_text("checksum", *value.checksum, 0, max_checksum_chars);
  }
  check_time("captured_at", value.captured_at);
  check_enum("status", value.status);
  return checked_metadata_text(value.metadata, limits);
}

}  // namespace detail

void validate_metadata(const nlohmann::json& metadata, const validation_limits& limits) {
  static_cast<void>(detail::validated_metadata_text(metadata, limits));
}

bool is_valid_utf8(std::string_view text) noexcept {
  return scan_text(text).invalid_at == std::string_view::npos;
}

void validate(const new_event& value, const validation_limits& limits) {
  static_cast<void>(detail::validated_metadata_text(value, limits));
}

void validate(const event& value, const validation_limits& limits) {
  static_cast<void>(detail::validated_metadata_text(value, limits));
}

void validate(const new_media& value, const validation_limits& limits) {
  static_cast<void>(detail::validated_metadata_text(value, limits));
}

event apply_patch(event current, const event_patch& patch) {
  if (patch.title) {
    current.title = *patch.title;
  }
  if (patch.description) {
    current.description = *patch.description;
  }
  if (patch.status) {
    current.status = *patch.status;
  }
  if (patch.start_time) {
    current.start_time = *patch.start_time;
  }
  if (patch.end_time) {
    current.end_time = *patch.end_time;
  }
  if (patch.location_name) {
    current.location_name = *patch.location_name;
  }
  if (patch.coordinates) {
    current.coordinates = *patch.coordinates;
  }
  if (patch.metadata) {
    current.metadata = *patch.metadata;
  }
  return current;
}

}  // namespace evstore
