#include "evstore/page.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/error.hpp"

namespace evstore {
namespace {

// The layout of a cursor before base64: version, kind length, kind, key (big-endian int64
// microseconds), id, then the first bytes of HMAC-SHA256 over everything before them.
constexpr std::uint8_t cursor_version = 1;
constexpr std::size_t max_kind_bytes = 64;
constexpr std::size_t key_bytes = 8;
constexpr std::size_t id_bytes = 16;
constexpr std::size_t tag_bytes = 16;
constexpr std::size_t header_bytes = 2;
constexpr std::size_t max_payload_bytes =
    header_bytes + max_kind_bytes + key_bytes + id_bytes + tag_bytes;
// Base64 of the largest payload; anything longer is refused before decoding.
constexpr std::size_t max_cursor_chars = (max_payload_bytes * 4 + 2) / 3;

// Used when EVSTORE_CURSOR_KEY is not set. Cursors are integrity-checked, not secret, so a
// public constant still stops accidental corruption and casual editing; a deployment that
// wants forgery resistance sets its own key.
constexpr std::string_view built_in_key = "evstore cursor key v1: 6f1c2a9e4b7d4e0c8a3f5b2d9e7c1a04";

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

[[noreturn]] void refuse_cursor(std::string_view why) {
  throw validation_error("cursor", "cursor: is malformed or tampered with (" + std::string(why) +
                                       "); start again from the first page");
}

const std::string& mac_key() {
  static const std::string key = [] {
    const char* from_env = std::getenv("EVSTORE_CURSOR_KEY");
    return from_env != nullptr && *from_env != '\0' ? std::string(from_env)
                                                    : std::string(built_in_key);
  }();
  return key;
}

// HMAC-SHA256 under mac_key(), keyed once per thread. The one-shot HMAC() fetches the digest
// and hashes the key on every call: about 23 k instructions per cursor, a twentieth of
// reading a whole page on PostgreSQL. Re-initialising a keyed context reuses its key schedule.
class cursor_mac {
 public:
  cursor_mac()
      : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)),
        context_(mac_ != nullptr ? EVP_MAC_CTX_new(mac_.get()) : nullptr) {
    const std::string& key = mac_key();
    std::string digest = "SHA256";
    const std::array parameters = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
        OSSL_PARAM_construct_end()};
    keyed_ = context_ != nullptr &&
             EVP_MAC_init(context_.get(), reinterpret_cast<const unsigned char*>(key.data()),
                          key.size(), parameters.data()) == 1;
  }

  // The tag of `bytes`; false when OpenSSL fails.
  bool tag(std::span<const std::uint8_t> bytes, std::array<unsigned char, EVP_MAX_MD_SIZE>& digest,
           std::size_t& digest_size) {
    return keyed_ && EVP_MAC_init(context_.get(), nullptr, 0, nullptr) == 1 &&
           EVP_MAC_update(context_.get(), bytes.data(), bytes.size()) == 1 &&
           EVP_MAC_final(context_.get(), digest.data(), &digest_size, digest.size()) == 1;
  }

 private:
  struct mac_free {
    void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
  };
  struct context_free {
    void operator()(EVP_MAC_CTX* context) const noexcept { EVP_MAC_CTX_free(context); }
  };
  std::unique_ptr<EVP_MAC, mac_free> mac_;
  std::unique_ptr<EVP_MAC_CTX, context_free> context_;
  bool keyed_ = false;
};

std::array<unsigned char, tag_bytes> tag_of(const std::vector<std::uint8_t>& bytes,
                                            std::size_t size) {
  thread_local cursor_mac mac;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  std::size_t digest_size = 0;
  if (!mac.tag(std::span(bytes.data(), size), digest, digest_size) || digest_size < tag_bytes) {
    throw error(error_category::config, "cursor: OpenSSL could not compute HMAC-SHA256");
  }
  std::array<unsigned char, tag_bytes> tag{};
  for (std::size_t i = 0; i < tag_bytes; ++i) {
    tag[i] = digest[i];
  }
  return tag;
}

std::string base64url_encode(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) |
                                (std::uint32_t{bytes[i + 1]} << 8) | std::uint32_t{bytes[i + 2]};
    out += base64_alphabet[(group >> 18) & 0x3f];
    out += base64_alphabet[(group >> 12) & 0x3f];
    out += base64_alphabet[(group >> 6) & 0x3f];
    out += base64_alphabet[group & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) {
      group |= std::uint32_t{bytes[i + 1]} << 8;
    }
    out += base64_alphabet[(group >> 18) & 0x3f];
    out += base64_alphabet[(group >> 12) & 0x3f];
    if (rest == 2) {
      out += base64_alphabet[(group >> 6) & 0x3f];
    }
  }
  return out;
}

int base64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
}

// Strict: only the URL-safe alphabet, no padding, and the unused low bits of the last
// character must be zero, so that exactly one text decodes to each payload (otherwise an
// edited last character could decode to the same bytes and pass the tag check).
std::vector<std::uint8_t> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) {
    refuse_cursor("bad length");
  }
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (const char c : text) {
    const int value = base64url_value(c);
    if (value < 0) {
      refuse_cursor("not URL-safe base64");
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> bit_count));
      bits &= (std::uint32_t{1} << bit_count) - 1;
    }
  }
  if (bits != 0) {
    refuse_cursor("not canonical base64");
  }
  return out;
}

void check_kind(std::string_view kind) {
  bool printable = true;
  for (const char c : kind) {
    printable = printable && c >= 0x21 && c <= 0x7e;
  }
  if (kind.empty() || kind.size() > max_kind_bytes || !printable) {
    throw validation_error("kind", "kind: a cursor kind must be 1 to " +
                                       std::to_string(max_kind_bytes) +
                                       " printable ASCII characters without spaces");
  }
}

}  // namespace

std::string encode_cursor(std::string_view kind, const cursor_position& position) {
  check_kind(kind);
  std::vector<std::uint8_t> bytes;
  bytes.reserve(header_bytes + kind.size() + key_bytes + id_bytes + tag_bytes);
  bytes.push_back(cursor_version);
  bytes.push_back(static_cast<std::uint8_t>(kind.size()));
  bytes.insert(bytes.end(), kind.begin(), kind.end());
  const auto key = static_cast<std::uint64_t>(position.key.time_since_epoch().count());
  for (std::size_t i = 0; i < key_bytes; ++i) {
    bytes.push_back(static_cast<std::uint8_t>(key >> (8 * (key_bytes - 1 - i))));
  }
  bytes.insert(bytes.end(), position.id.bytes().begin(), position.id.bytes().end());
  const auto tag = tag_of(bytes, bytes.size());
  bytes.insert(bytes.end(), tag.begin(), tag.end());
  return base64url_encode(bytes);
}

cursor_position decode_cursor(std::string_view kind, std::string_view cursor) {
  if (cursor.empty()) {
    refuse_cursor("empty");
  }
  if (cursor.size() > max_cursor_chars) {
    refuse_cursor("too long");
  }
  const std::vector<std::uint8_t> bytes = base64url_decode(cursor);
  constexpr std::size_t fixed_bytes = header_bytes + key_bytes + id_bytes + tag_bytes;
  if (bytes.size() < fixed_bytes || bytes[0] != cursor_version ||
      bytes.size() != fixed_bytes + bytes[1]) {
    refuse_cursor("bad layout");
  }
  const std::size_t signed_bytes = bytes.size() - tag_bytes;
  const auto expected = tag_of(bytes, signed_bytes);
  if (CRYPTO_memcmp(expected.data(), bytes.data() + signed_bytes, tag_bytes) != 0) {
    refuse_cursor("bad signature");
  }
  const std::string_view cursor_kind(reinterpret_cast<const char*>(bytes.data() + header_bytes),
                                     bytes[1]);
  if (cursor_kind != kind) {
    refuse_cursor("made for another listing");
  }
  std::size_t at = header_bytes + bytes[1];
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < key_bytes; ++i) {
    key = (key << 8) | bytes[at++];
  }
  std::array<std::uint8_t, id_bytes> id{};
  for (std::size_t i = 0; i < id_bytes; ++i) {
    id[i] = bytes[at++];
  }
  return {timestamp{std::chrono::microseconds{static_cast<std::int64_t>(key)}}, uuid(id)};
}

void validate(const page_request& request) {
  if (request.limit < min_page_limit || request.limit > max_page_limit) {
    throw validation_error("limit", "limit: must be " + std::to_string(min_page_limit) + " to " +
                                        std::to_string(max_page_limit) + ", got " +
                                        std::to_string(request.limit));
  }
}

}  // namespace evstore
