#pragma once

// A loopback TCP port that refuses every connection: bound, so that nothing else takes it
// while the test runs, and never listening, so that the kernel answers a connect with a reset
// at once. For the first host of a multi-host URL that libpq must skip.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace evstore::test {

class refusing_port {
 public:
  /// Binds a free port of `address` ("127.0.0.1" or "::1").
  /// @throws std::runtime_error when the address cannot be bound.
  explicit refusing_port(const std::string& address = "127.0.0.1") {
    sockaddr_storage storage{};
    socklen_t length = 0;
    auto* ipv4 = reinterpret_cast<sockaddr_in*>(&storage);
    auto* ipv6 = reinterpret_cast<sockaddr_in6*>(&storage);
    if (inet_pton(AF_INET, address.c_str(), &ipv4->sin_addr) == 1) {
      ipv4->sin_family = AF_INET;
      length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &ipv6->sin6_addr) == 1) {
      ipv6->sin6_family = AF_INET6;
      length = sizeof(sockaddr_in6);
    } else {
      throw std::runtime_error("refusing_port: not an IP address: " + address);
    }
    // The sockets API takes sockaddr*; reinterpret_cast is its documented use.
    auto* generic = reinterpret_cast<sockaddr*>(&storage);
    fd_ = socket(storage.ss_family, SOCK_STREAM, 0);
    if (fd_ < 0 || bind(fd_, generic, length) != 0 || getsockname(fd_, generic, &length) != 0) {
      if (fd_ >= 0) {
        close(fd_);
      }
      throw std::runtime_error("refusing_port: cannot bind a port of " + address);
    }
    port_ = ntohs(storage.ss_family == AF_INET ? ipv4->sin_port : ipv6->sin6_port);
  }
  refusing_port(const refusing_port&) = delete;
  refusing_port& operator=(const refusing_port&) = delete;
  ~refusing_port() { close(fd_); }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace evstore::test
