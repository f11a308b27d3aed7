#pragma once

// The HTTP interface of `evstore serve`: its routes and its limits (docs/operations.md).

#include <chrono>
#include <cstddef>

#include <httplib.h>

#include "health_probe.hpp"

namespace evstore::cli {

/// What one client may take of the server. cpp-httplib 0.11.4's own defaults include an
/// unlimited payload and an unbounded queue of accepted connections, so every limit is set
/// explicitly (docs/operations.md, "Limits against bad clients").
struct http_limits {
  std::size_t worker_threads = 8;
  std::size_t max_queued = 64;  ///< accepted connections waiting for a worker
  std::size_t max_payload = std::size_t{64} * 1024;
  std::chrono::seconds read_timeout{5};  ///< per read of the request
  std::chrono::seconds write_timeout{5};
  std::chrono::seconds keep_alive_timeout{2};  ///< idle time between requests
  std::size_t keep_alive_max_requests = 100;   ///< requests on one connection
};

/// The paths served, as printed in the "listening on" line.
inline constexpr const char* health_path = "/api/health/db";
inline constexpr const char* liveness_path = "/api/health/live";
inline constexpr const char* metrics_path = "/metrics";

/// Sets `server`'s limits and routes: GET (and HEAD) of the three paths; 405 for other
/// methods on them; 404 elsewhere; JSON error bodies. `probe` must outlive the server.
void configure_http(httplib::Server& server, database_probe& probe, const http_limits& limits);

}  // namespace evstore::cli
