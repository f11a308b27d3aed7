#pragma once

// A write load that records the outcome of every operation, for fault tests: threads that
// each run, over and over, one transaction writing an event titled "ledger <thread> <n>" and
// exactly 2 media, and note whether it was acknowledged (ok), failed (with its error type) or
// reported commit_unknown. check_ledger then holds the table to those outcomes.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <evstore/connection.hpp>
#include <evstore/store.hpp>

namespace evstore::test {

enum class write_outcome { ok, failed, unknown };

struct write_record {
  std::string title;
  write_outcome outcome = write_outcome::ok;
  /// The dynamic type of the failure ("evstore::timeout_error"); "untyped: ..." for an
  /// exception that is not an evstore::error.
  std::string error_type;
  std::chrono::steady_clock::time_point finished;
  std::chrono::steady_clock::duration took{};
};

class write_ledger {
 public:
  using clock = std::chrono::steady_clock;

  /// Starts `threads` writers on `target`, which must outlive this object. Writers go on
  /// after failures, pausing `pause` after each one.
  write_ledger(store& target, int threads,
               std::chrono::milliseconds pause = std::chrono::milliseconds(20));
  write_ledger(const write_ledger&) = delete;
  write_ledger& operator=(const write_ledger&) = delete;
  /// Stops and joins the writers.
  ~write_ledger();

  /// Stops the writers and waits for them.
  void stop();

  /// Waits until some write finished with `ok` after `since`, or `timeout` passed.
  /// @returns when that write finished, or nullopt.
  [[nodiscard]] std::optional<clock::time_point> first_ok_after(
      clock::time_point since, std::chrono::milliseconds timeout) const;

  /// Waits until `count` writes have been acknowledged in all, or `timeout` passed.
  bool wait_for_ok(std::int64_t count, std::chrono::milliseconds timeout) const;

  /// A copy of every record so far.
  [[nodiscard]] std::vector<write_record> records() const;

 private:
  void write(store& target, int thread, std::chrono::milliseconds pause);

  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> acknowledged_{0};
  mutable std::mutex mutex_;
  std::vector<write_record> records_;
  std::vector<std::thread> threads_;
};

/// What the table says against `records`, one line per problem; empty when every
/// acknowledged write is present and whole (1 event and its 2 media), no failed write is
/// present, an unknown one is whole or absent, no title appears twice, no ledger row was
/// written that nobody asked for, and every failure has an evstore error type.
[[nodiscard]] std::vector<std::string> check_ledger(connection& conn,
                                                    const std::vector<write_record>& records);

/// "ok 120, failed 3 (evstore::timeout_error 3), unknown 1": for test messages.
[[nodiscard]] std::string summary(const std::vector<write_record>& records);

}  // namespace evstore::test
