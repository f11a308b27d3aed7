#pragma once

// Private to libevstore: ASCII character helpers shared by the parsers.

namespace evstore::detail {

/// The value of a hexadecimal digit, either case, or -1.
[[nodiscard]] constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace evstore::detail
