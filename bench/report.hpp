#pragma once

// Results: one contender's measurement of one workload, their medians over repeats, the
// machine-readable BENCH line and the closing table.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "contender.hpp"

namespace evstore::bench {

/// One contender, one run of one workload.
struct measurement {
  double throughput = 0;             ///< units per second
  std::vector<double> latencies_us;  ///< one per operation; empty when not a latency workload
  /// The replica contender: the share of its reads the standby served, warm-up included.
  std::optional<double> standby_share{};
};

struct workload_result {
  backend_kind backend = backend_kind::sqlite;
  std::string workload;                                     ///< "W1" ... "W5"
  std::string unit;                                         ///< "events/s", "media/s", ...
  std::size_t rows = 0;                                     ///< media rows in the table read
  std::map<contender_kind, std::vector<measurement>> runs;  ///< one per repeat, in run order
};

/// The p-th percentile (0..100) of `values`, nearest rank; 0 for none.
[[nodiscard]] double percentile(std::vector<double> values, double p);

/// The median of `values`; 0 for none.
[[nodiscard]] double median(std::vector<double> values);

/// What a ratio compares: throughput, or the speed of the median operation (1 / p50), which
/// a preempted operation on a busy machine cannot move.
enum class speed : std::uint8_t { throughput, median_operation };

/// The median over repeats of a contender's speed divided by raw's in the same repeat:
/// higher is better, 1.0 means as fast as raw. nullopt when either did not run.
[[nodiscard]] std::optional<double> ratio(const workload_result& result, contender_kind which,
                                          contender_kind baseline = contender_kind::raw,
                                          speed by = speed::throughput);

/// "BENCH backend=... workload=... evstore=... raw=... soci=... ratio=... unit=...", then
/// soci_ratio; with --pgbouncer-url pgbouncer (throughput through the pooler) and
/// pgbouncer_ratio (against evstore direct, and pgbouncer_p50_ratio by median operation);
/// with --standby-url replica (throughput with reads on the standby), replica_ratio (against
/// evstore direct) and standby_share (the median share of reads the standby served);
/// rows, repeats, and for latency workloads p50_ratio (ratio by median operation) and
/// p50/p99 (microseconds).
[[nodiscard]] std::string bench_line(const workload_result& result);

/// A table of every result, for people.
[[nodiscard]] std::string table(const std::vector<workload_result>& results);

}  // namespace evstore::bench
