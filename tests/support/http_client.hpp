#pragma once

// An HTTP client for the servers the tests start, with bounded waits.

#include <chrono>

#include <httplib.h>

namespace evstore::test {

/// A client of 127.0.0.1:`port` that gives up connecting after 2 s and reading after 10 s.
inline httplib::Client local_client(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(10));
  client.set_write_timeout(std::chrono::seconds(5));
  return client;
}

}  // namespace evstore::test
