#pragma once

// The HOST:PORT that `evstore serve` listens on.

#include <cstdint>
#include <string>
#include <string_view>

namespace evstore::cli {

struct listen_address {
  std::string host;        ///< a name or an address; an IPv6 address without its brackets
  std::uint16_t port = 0;  ///< 0: any free port, chosen by the system

  /// "host:port", with brackets around an IPv6 address.
  [[nodiscard]] std::string to_string() const;
};

/// Parses HOST:PORT or [IPV6]:PORT, PORT from 0 to 65535.
/// @param origin where the text came from ("--listen", "environment"), for the message.
/// @throws config_error naming the origin and what is wrong.
[[nodiscard]] listen_address parse_listen_address(std::string_view text, std::string_view origin);

}  // namespace evstore::cli
