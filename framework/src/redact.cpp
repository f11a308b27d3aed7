#include "evstore/redact.hpp"

namespace evstore {
namespace {

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void replace_all(std::string& text, std::string_view needle) {
  constexpr std::string_view mask = "***";
  for (auto at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + mask.size())) {
    text.replace(at, needle.size(), mask);
  }
}

std::string encode(std::string_view text, std::string_view hex, std::string_view keep) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(ch) || keep.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

constexpr std::string_view upper_hex = "0123456789ABCDEF";
constexpr std::string_view lower_hex = "0123456789abcdef";

}  // namespace

std::string percent_encode(std::string_view text, std::string_view keep) {
  return encode(text, upper_hex, keep);
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) {
    return text;
  }
  replace_all(text, secret);
  replace_all(text, encode(secret, upper_hex, {}));
  replace_all(text, encode(secret, lower_hex, {}));
  return text;
}

}  // namespace evstore
