#pragma once

/// @file
/// evstore's figures in the Prometheus text exposition format (version 0.0.4), as served by
/// `GET /metrics`: the connection pool's gauges, counters and acquire-time histogram, the
/// store's repository operations (counts, errors, duration histograms) and transactions
/// (outcomes, retries), reads per target (the primary or a read replica) with each replica's
/// state and lag, and the health checker's status, counters and check-duration
/// histogram. docs/operations.md lists every metric.

#include <string>

#include "evstore/export.hpp"
#include "evstore/health.hpp"
#include "evstore/pool.hpp"
#include "evstore/store_statistics.hpp"

namespace evstore {

/// The metrics text: a `# HELP` and a `# TYPE` line for every metric family, then its
/// samples; names start with `evstore_`, durations are in seconds.
/// @param pool the pool's current figures.
/// @param store the store's counters (store::statistics()).
/// @param health the health checker's counters.
/// @param last the latest health report (its status, latency and pending migrations).
[[nodiscard]] EVSTORE_API std::string prometheus_text(const pool_metrics& pool,
                                                      const store_statistics& store,
                                                      const health_statistics& health,
                                                      const health_report& last);

}  // namespace evstore
