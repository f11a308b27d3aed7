#pragma once

/// @file
/// The database health check behind `GET /api/health/db` and `evstore health`: one round trip
/// under a deadline, the server version, the schema's migration state and the pool's figures,
/// cached briefly so that a flood of probes does not become a flood of queries. See
/// docs/operations.md.
///
///     evstore::health_checker checker(pool, url, "postgresql", {.timeout = 2s});
///     const auto report = checker.check();  // never takes much longer than 2 s
///     std::cout << report.to_json().dump(2);

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evstore/backend.hpp"
#include "evstore/config.hpp"
#include "evstore/export.hpp"
#include "evstore/migration.hpp"
#include "evstore/pool.hpp"
#include "evstore/replicas.hpp"

namespace evstore {

/// The verdict of a health check.
enum class health_status : std::uint8_t {
  up,        ///< the database answered; schema up to date; the pool keeps up
  degraded,  ///< the database answered, but migrations are pending (or drifted), callers
             ///< are queueing for pooled connections, or a read replica is not up
  down,      ///< the database could not be reached, failed, or did not answer in time
};

/// "up", "degraded" or "down".
[[nodiscard]] EVSTORE_API const char* to_string(health_status status) noexcept;

/// The schema's migration state as a health check sees it.
struct health_schema {
  std::string current;      ///< the last applied migration, "scope:version"; empty if none
  std::string latest;       ///< the last known migration, "scope:version"; empty if none
  std::size_t pending = 0;  ///< known migrations not yet applied
  std::size_t drifted = 0;  ///< applied migrations whose file is modified or missing
};

/// The outcome of one health check. It holds no URL and no credential.
struct EVSTORE_API health_report {
  health_status status = health_status::down;
  /// Why the status is not `up`, short and free of credentials and URLs; empty when up.
  std::string reason;
  std::string backend;         ///< the backend's name, e.g. "postgresql"
  std::string server_version;  ///< empty when the check did not get that far
  /// The round trip of `SELECT 1`; empty when the check did not get that far.
  std::optional<std::chrono::microseconds> latency;
  /// The migration state; empty when the check did not get that far.
  std::optional<health_schema> schema;
  pool_metrics pool;                                 ///< the pool's figures during the check
  std::chrono::system_clock::time_point checked_at;  ///< when the check started
  /// The pooler the store's connections go through (health_options::pooler).
  pooler_mode pooler = pooler_mode::none;
  /// The read replicas (health_options::replicas); empty without them.
  std::vector<replica_status> replicas;

  /// The report as JSON: `status`, `reason` (null when up), `backend`, `server_version`,
  /// `pooler` (none, session or transaction), `latency_ms` (milliseconds, 3 decimals), `schema`
  /// {`current`, `latest`, `pending`}, `pool` {`size`, `max`, `idle`, `in_use`, `waiting`},
  /// `replicas` (a list of {`name`, `state`, `reason`, `lag_bytes`, `lag_ms`, `reads`}; empty
  /// without read replicas) and `checked_at` (ISO 8601, UTC, microseconds). Fields the check
  /// did not reach are null.
  [[nodiscard]] nlohmann::json to_json() const;
};

/// How a health_checker checks.
struct health_options {
  /// The longest check() takes, waiting for a pooled connection included.
  std::chrono::milliseconds timeout{2000};
  /// A report younger than this is answered from the cache; 0 checks every time.
  std::chrono::milliseconds cache_for{1000};
  /// This many callers waiting for a pooled connection make the status degraded; 0 never.
  std::size_t degraded_waiters = 1;
  /// The pooler the pool's connections go through, named in every report (the store's
  /// connect.pooler).
  pooler_mode pooler = pooler_mode::none;
  /// The read replicas' states (store::replicas), asked with the time left for the check;
  /// one that is not `up` makes a report of a reachable primary degraded. Empty: none.
  std::function<std::vector<replica_status>(std::chrono::milliseconds)> replicas{};
};

/// Counters of a health_checker since its construction, for /metrics.
struct health_statistics {
  /// Upper bounds of the check-duration histogram buckets.
  static constexpr std::array<std::chrono::milliseconds, 8> duration_buckets = {
      std::chrono::milliseconds{1},    std::chrono::milliseconds{5},
      std::chrono::milliseconds{10},   std::chrono::milliseconds{50},
      std::chrono::milliseconds{100},  std::chrono::milliseconds{500},
      std::chrono::milliseconds{1000}, std::chrono::milliseconds{5000}};

  /// Checks run against the database (answers from the cache are not counted), by the status
  /// they gave: [up, degraded, down].
  std::array<std::uint64_t, 3> checks{};
  /// Checks that gave up at the timeout (also counted as down).
  std::uint64_t timeouts = 0;
  /// Cumulative: duration_histogram[i] counts the checks that took at most duration_buckets[i];
  /// the "+Inf" bucket is the sum of `checks`.
  std::array<std::uint64_t, 8> duration_histogram{};
  std::chrono::microseconds duration_total{0};  ///< the checks' summed duration
  std::uint64_t cache_hits = 0;                 ///< check() calls answered from the cache
};

/// Checks a database through a connection pool. Thread-safe: one check runs at a time;
/// callers that come while it runs wait for its result, and callers within `cache_for` of
/// the last result get that one. No caller waits longer than `timeout`, even when the pool is
/// exhausted or the server hangs: the check runs on a thread of its own, and a caller whose
/// time is up gets a `down` report ("timed out after N ms") while the late check is left to
/// finish alone, its connection then discarded.
class EVSTORE_API health_checker {
 public:
  /// @param pool where connections are borrowed from (acquire_within). It must outlive this
  ///        checker; the destructor waits for a check that is still borrowing from it.
  /// @param url the database's URL: used only to keep it, and its password, out of reasons.
  /// @param backend_name named in reports, even when no connection could be had.
  /// @param app the application's migrations (scope "app"), counted in `schema`.
  /// @throws config_error when `timeout` is not positive or `cache_for` is negative.
  health_checker(connection_pool& pool, const database_url& url, std::string backend_name,
                 health_options options = {}, std::vector<migration> app = {});
  health_checker(const health_checker&) = delete;
  health_checker& operator=(const health_checker&) = delete;
  ~health_checker();

  /// The current report: the cached one if it is fresh, else the outcome of a new check (or
  /// of the one already running). Never throws for a database failure: that is a `down`
  /// report.
  [[nodiscard]] health_report check();

  /// The counters so far.
  [[nodiscard]] health_statistics statistics() const;

  /// The options in effect.
  [[nodiscard]] const health_options& options() const noexcept;

  /// Opaque: defined in health.cpp.
  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace evstore
