#pragma once

// Private to libevstore: a store's read replicas. Each has a pool of its own for reads, and
// one more connection on which a monitor thread checks, every check_interval, how far it has
// replayed; the monitor also asks the primary for its write position, so that the lag of each
// replica is known without a round trip per read. Reads then pick a replica from what the
// monitor last saw, in round robin.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deadline.hpp"
#include "evstore/config.hpp"
#include "evstore/dialect.hpp"
#include "evstore/pool.hpp"
#include "evstore/replicas.hpp"

namespace evstore::detail {

/// The write position a caller's reads must have been replayed to. It only grows.
struct causal_position {
  std::atomic<std::uint64_t> value{0};

  void advance(std::uint64_t to) noexcept {
    auto current = value.load(std::memory_order_relaxed);
    while (current < to && !value.compare_exchange_weak(current, to)) {
    }
  }
  [[nodiscard]] std::uint64_t get() const noexcept { return value.load(); }
};

/// The write position the primary reports on `conn` (dialect::write_position).
[[nodiscard]] std::uint64_t write_position(connection& conn, const dialect& sql);

class replica_set {
 public:
  /// One replica: its URL as the backend sees it, and how to open its connections.
  struct member {
    database_url url;
    connection_pool::factory open;
    pool_settings pool;
  };

  /// Starts the monitor thread; opens no connection before it runs.
  /// @param open_primary opens a connection to the primary, for its write position.
  /// @param watchdog bounds each check (it must outlive this set).
  replica_set(std::vector<member> members, connection_pool::factory open_primary,
              const dialect& sql, replica_options options, watchdog& watchdog);
  replica_set(const replica_set&) = delete;
  replica_set& operator=(const replica_set&) = delete;
  /// Stops the monitor and closes the replicas' pools, as close().
  ~replica_set();

  /// Stops the monitor and closes the replicas' pools: a read that still comes then finds no
  /// replica in the rotation. Idempotent.
  void close();

  /// A replica's connection for one read.
  struct pick {
    std::size_t replica = 0;
    connection_pool::lease lease;
  };

  /// A connection to a replica in the rotation that has replayed up to `position`, waiting
  /// up to read_your_writes_wait for one to get there; none when no replica qualifies (the
  /// read then goes to the primary).
  [[nodiscard]] std::optional<pick> choose(std::uint64_t position);

  /// Counts a read the replica at `index` served.
  void served(std::size_t index) noexcept;
  /// Takes the replica at `index` out of the rotation after a read failed there with
  /// `failure`, until the monitor finds it well again, and closes its idle connections.
  void failed(std::size_t index, const std::string& failure);
  /// Counts a read that went to the primary though replicas are configured.
  void fell_back() noexcept { fallbacks_.fetch_add(1, std::memory_order_relaxed); }

  /// Every replica as the last check saw it, in the order configured. Waits up to `wait` for
  /// the first check to finish, so that a caller right after opening sees real states.
  [[nodiscard]] std::vector<replica_status> statuses(std::chrono::milliseconds wait) const;
  /// Reads that went to the primary though replicas are configured.
  [[nodiscard]] std::uint64_t fallbacks() const noexcept { return fallbacks_.load(); }

  /// The primary's write position from a check that starts after this call, waiting for it;
  /// none when the primary does not answer that check.
  [[nodiscard]] std::optional<std::uint64_t> next_primary_position() const;

 private:
  struct replica;

  void monitor();
  std::optional<std::uint64_t> check_all();
  std::optional<std::uint64_t> primary_position();
  void check(replica& r, std::optional<std::uint64_t> primary);
  [[nodiscard]] std::chrono::milliseconds time_behind(std::uint64_t replayed) const;
  [[nodiscard]] std::optional<std::uint64_t> query_position(std::optional<connection>& conn,
                                                            const connection_pool::factory& open,
                                                            const std::string& sql);
  // Runs a position query on `conn`, interrupting it past the check timeout.
  // @throws timeout_error then (the connection must be discarded), or what the query threw.
  long long bounded_query(connection& conn, const std::string& sql);
  bool wait_for(replica& r, connection& conn, std::uint64_t position);

  const dialect& sql_;
  replica_options options_;
  watchdog& watchdog_;
  std::vector<std::unique_ptr<replica>> replicas_;
  connection_pool::factory open_primary_;
  std::optional<connection> primary_;  // the monitor's own
  // The primary's write positions the monitor saw, and when: the lag in time of a replica is
  // the age of the oldest one it has not replayed.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> history_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> fallbacks_{0};

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stopping_ = false;
  std::uint64_t rounds_ = 0;  // checks finished
  std::optional<std::uint64_t> last_primary_;
  std::thread thread_;
};

}  // namespace evstore::detail
