#pragma once

/// @file
/// What a store has done since it was opened, for /metrics (evstore/prometheus.hpp) and an
/// application's own monitoring: repository operations by name with their durations, and the
/// units of work with their retries and unknown commit outcomes. See docs/operations.md.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "evstore/replicas.hpp"

namespace evstore {

/// The counters of one repository operation, such as "events.create" or "media.timeline".
struct operation_statistics {
  /// Upper bounds of the duration histogram buckets.
  static constexpr std::array<std::chrono::microseconds, 9> duration_buckets = {
      std::chrono::microseconds{500},    std::chrono::microseconds{1000},
      std::chrono::microseconds{5000},   std::chrono::microseconds{10000},
      std::chrono::microseconds{50000},  std::chrono::microseconds{100000},
      std::chrono::microseconds{500000}, std::chrono::microseconds{1000000},
      std::chrono::microseconds{5000000}};

  /// "<repository>.<function>": events.create, events.list, media.add, media.timeline ...
  std::string operation;
  std::uint64_t calls = 0;   ///< finished calls, failed ones included
  std::uint64_t errors = 0;  ///< calls that threw an evstore::error
  /// Cumulative: duration_histogram[i] counts the calls that took at most
  /// duration_buckets[i]; `calls` is the "+Inf" bucket. A call's duration includes waiting
  /// for a pooled connection and, for an atomic operation, its transaction's retries.
  std::array<std::uint64_t, 9> duration_histogram{};
  std::chrono::microseconds duration_total{0};  ///< the calls' summed duration
};

/// A snapshot of a store's counters since it was opened.
struct store_statistics {
  /// One entry per operation called at least once, sorted by name.
  std::vector<operation_statistics> operations;
  /// Units of work (store::transaction, and the atomic operations such as create_many) that
  /// committed.
  std::uint64_t transactions_committed = 0;
  /// Units of work that ended with an error (rolled back, or gave up retrying).
  std::uint64_t transactions_failed = 0;
  /// Attempts that were retried after a transient error or a lost connection before COMMIT.
  std::uint64_t transaction_retries = 0;
  /// Units of work whose COMMIT outcome is unknown (commit_unknown thrown, not retried).
  std::uint64_t commit_unknown = 0;
  /// Reads (get, list, count, timeline, count_by_event) the primary served.
  std::uint64_t primary_reads = 0;
  /// Of those, the reads that went to the primary though read replicas are configured: no
  /// replica had replayed the caller's writes in time, none was in the rotation, or the read
  /// failed on one.
  std::uint64_t replica_fallbacks = 0;
  /// Every read replica as last checked, with the reads it served.
  std::vector<replica_status> replicas;
};

}  // namespace evstore
