#include "evstore/model.hpp"

#include <unistd.h>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "evstore/error.hpp"

#include "ascii.hpp"

namespace evstore {
namespace {

// At most this many bytes of a refused input are quoted back in an error message.
constexpr std::size_t max_echo_bytes = 40;

// Quotes the start of an untrusted input for an error message: printable ASCII as is,
// every other byte as \xHH, so the message stays valid UTF-8 and safe to log.
std::string echo(std::string_view text) {
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : text.substr(0, max_echo_bytes)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && ch != '"' && ch != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  out += '"';
  if (text.size() > max_echo_bytes) {
    out += "...";
  }
  return out;
}

// The state of the UUIDv7 generator (RFC 9562 section 6.2, method 2, "monotonic random"):
// the 74 bits after the timestamp (12 of rand_a, 62 of rand_b) are a counter that grows by a
// random step while the clock stands still or goes back, and carries into the timestamp.
class v7_generator {
 public:
  uuid next() {
    const std::lock_guard lock(mutex_);
    if (const pid_t pid = ::getpid(); pid != pid_) {
      // A forked child must neither replay the parent's buffered random bytes nor continue
      // its counter, or parent and child would make the same ids.
      pid_ = pid;
      used_ = buffer_.size();
      has_last_ = false;
    }
    const std::uint64_t now = now_ms();
    if (!has_last_ || now > ms_) {
      ms_ = now;
      rand_a_ = random_u64() & rand_a_mask;
      rand_b_ = random_u64() & rand_b_mask;
      has_last_ = true;
    } else {
      // A random step of 1..2^32 keeps the next id unguessable; 2^74 / 2^32 steps per
      // millisecond before a carry is far more than any machine can make.
      rand_b_ += (random_u64() & 0xffff'ffffU) + 1;
      if (rand_b_ > rand_b_mask) {
        rand_b_ &= rand_b_mask;
        if (++rand_a_ > rand_a_mask) {
          rand_a_ = 0;
          ms_ = (ms_ + 1) & ms_mask;
        }
      }
    }
    return make();
  }

 private:
  static constexpr std::uint64_t ms_mask = (std::uint64_t{1} << 48) - 1;
  static constexpr std::uint64_t rand_a_mask = (std::uint64_t{1} << 12) - 1;
  static constexpr std::uint64_t rand_b_mask = (std::uint64_t{1} << 62) - 1;
  static constexpr std::size_t buffer_bytes = 4096;

  static std::uint64_t now_ms() {
    const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    return since_epoch < 0 ? 0 : static_cast<std::uint64_t>(since_epoch) & ms_mask;
  }

  // Random bytes come from OpenSSL's CSPRNG, fetched in blocks to keep the cost per id low.
  std::uint64_t random_u64() {
    if (buffer_.size() - used_ < sizeof(std::uint64_t)) {
      if (RAND_bytes(buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
        throw error(error_category::config, "uuid: OpenSSL's random number generator failed");
      }
      used_ = 0;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(value); ++i) {
      value = (value << 8) | buffer_[used_ + i];
    }
    used_ += sizeof(value);
    return value;
  }

  uuid make() const {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < 6; ++i) {
      bytes[i] = static_cast<std::uint8_t>(ms_ >> (40 - 8 * i));
    }
    bytes[6] = static_cast<std::uint8_t>(0x70 | (rand_a_ >> 8));
    bytes[7] = static_cast<std::uint8_t>(rand_a_);
    bytes[8] = static_cast<std::uint8_t>(0x80 | (rand_b_ >> 56));
    for (std::size_t i = 9; i < 16; ++i) {
      bytes[i] = static_cast<std::uint8_t>(rand_b_ >> (8 * (15 - i)));
    }
    return uuid(bytes);
  }

  std::mutex mutex_;
  std::array<unsigned char, buffer_bytes> buffer_{};
  std::size_t used_ = buffer_bytes;
  pid_t pid_ = 0;
  bool has_last_ = false;
  std::uint64_t ms_ = 0;
  std::uint64_t rand_a_ = 0;
  std::uint64_t rand_b_ = 0;
};

template <typename Enum, std::size_t N>
Enum parse_enum(std::string_view text, std::string_view field, const std::array<Enum, N>& values) {
  for (const Enum value : values) {
    if (to_string(value) == text) {
      return value;
    }
  }
  std::string allowed;
  for (const Enum value : values) {
    if (!allowed.empty()) {
      allowed += ", ";
    }
    allowed += to_string(value);
  }
  throw validation_error(std::string(field), std::string(field) + ": must be one of " + allowed +
                                                 ", got " + echo(text));
}

// Where each of a UUID's 16 bytes starts in its 36 characters of text.
constexpr std::array<std::size_t, 16> uuid_digit_pairs = {0,  2,  4,  6,  9,  11, 14, 16,
                                                          19, 21, 24, 26, 28, 30, 32, 34};
constexpr std::array<std::size_t, 4> uuid_hyphens = {8, 13, 18, 23};
constexpr std::size_t uuid_text_size = 36;

// detail::hex_value of every byte, looked up instead of compared: UUIDs are parsed for every
// row read.
constexpr auto hex_values = [] {
  std::array<std::int8_t, 256> values{};
  for (std::size_t c = 0; c < values.size(); ++c) {
    values[c] = static_cast<std::int8_t>(detail::hex_value(static_cast<char>(c)));
  }
  return values;
}();

}  // namespace

uuid uuid::v7() {
  static v7_generator generator;
  return generator.next();
}

uuid uuid::parse(std::string_view text, std::string_view field) {
  bool well_formed = text.size() == uuid_text_size;
  std::array<std::uint8_t, 16> bytes{};
  if (well_formed) {
    for (const auto hyphen : uuid_hyphens) {
      well_formed = well_formed && text[hyphen] == '-';
    }
    // A digit that is not one is -1: OR-ed into `invalid`, it sets the sign bit.
    int invalid = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const int high = hex_values[static_cast<unsigned char>(text[uuid_digit_pairs[i]])];
      const int low = hex_values[static_cast<unsigned char>(text[uuid_digit_pairs[i] + 1])];
      invalid |= high | low;
      bytes[i] = static_cast<std::uint8_t>((high & 0xf) << 4 | (low & 0xf));
    }
    well_formed = well_formed && invalid >= 0;
  }
  if (!well_formed) {
    throw validation_error(std::string(field),
                           std::string(field) +
                               ": must be a UUID of 32 hexadecimal digits in the form "
                               "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, got " +
                               echo(text));
  }
  return uuid(bytes);
}

std::string uuid::to_string() const {
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out(uuid_text_size, '-');
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    out[uuid_digit_pairs[i]] = hex[bytes_[i] >> 4U];
    out[uuid_digit_pairs[i] + 1] = hex[bytes_[i] & 0x0fU];
  }
  return out;
}

std::string_view to_string(event_status status) noexcept {
  switch (status) {
    case event_status::draft:
      return "draft";
    case event_status::scheduled:
      return "scheduled";
    case event_status::live:
      return "live";
    case event_status::completed:
      return "completed";
    case event_status::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(media_kind kind) noexcept {
  switch (kind) {
    case media_kind::image:
      return "image";
    case media_kind::video:
      return "video";
    case media_kind::audio:
      return "audio";
    case media_kind::document:
      return "document";
  }
  return "unknown";
}

std::string_view to_string(media_status status) noexcept {
  switch (status) {
    case media_status::pending:
      return "pending";
    case media_status::processing:
      return "processing";
    case media_status::ready:
      return "ready";
    case media_status::failed:
      return "failed";
  }
  return "unknown";
}

event_status parse_event_status(std::string_view text, std::string_view field) {
  return parse_enum(text, field,
                    std::array{event_status::draft, event_status::scheduled, event_status::live,
                               event_status::completed, event_status::cancelled});
}

media_kind parse_media_kind(std::string_view text, std::string_view field) {
  return parse_enum(
      text, field,
      std::array{media_kind::image, media_kind::video, media_kind::audio, media_kind::document});
}

media_status parse_media_status(std::string_view text, std::string_view field) {
  return parse_enum(text, field,
                    std::array{media_status::pending, media_status::processing, media_status::ready,
                               media_status::failed});
}

}  // namespace evstore
