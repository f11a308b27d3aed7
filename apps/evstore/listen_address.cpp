#include "listen_address.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include <evstore/error.hpp>

namespace evstore::cli {
namespace {

constexpr unsigned highest_port = 65535;

[[noreturn]] void refuse(std::string_view text, std::string_view origin, std::string_view why) {
  throw config_error(
      fmt::format("EVSTORE_LISTEN from {}: \"{}\": {} (expected HOST:PORT, such "
                  "as 127.0.0.1:8080 or [::1]:8080)",
                  origin, text, why));
}

}  // namespace

std::string listen_address::to_string() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

listen_address parse_listen_address(std::string_view text, std::string_view origin) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    refuse(text, origin, "no port");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.starts_with('[') || host.ends_with(']')) {
    if (host.size() < 3 || !host.starts_with('[') || !host.ends_with(']')) {
      refuse(text, origin, "unbalanced brackets");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    refuse(text, origin, "an IPv6 address needs brackets");
  }
  if (host.empty()) {
    refuse(text, origin, "no host");
  }
  const bool printable = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' ||
           c == '_' || c == '%';
  });
  if (!printable) {
    refuse(text, origin, "the host has characters no host name or address has");
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    refuse(text, origin, "the port is not a number");
  }
  const unsigned number = static_cast<unsigned>(std::stoul(std::string(port)));
  if (number > highest_port) {
    refuse(text, origin, "the port is above 65535");
  }
  return {std::string(host), static_cast<std::uint16_t>(number)};
}

}  // namespace evstore::cli
