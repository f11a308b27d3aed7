#pragma once

// A write load for tests of what happens while the database is in use (a backup taken
// meanwhile): threads that each commit, over and over, one transaction of an event titled
// "writer <thread> <n>" and exactly 3 media. check_consistency (table_checksum.hpp) recognises
// these rows.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <evstore/store.hpp>

namespace evstore::test {

/// `count` image media of `event`, captured a second apart from `start`, with URIs
/// s3://<folder>/<thread>/<n>/<i>.jpg: what one writer transaction adds.
[[nodiscard]] std::vector<new_media> writer_media(const uuid& event, std::string_view folder,
                                                  int thread, std::int64_t n, int count,
                                                  timestamp start);

class concurrent_writers {
 public:
  /// Starts `threads` writers on `target`, which must outlive this object.
  concurrent_writers(store& target, int threads);
  concurrent_writers(const concurrent_writers&) = delete;
  concurrent_writers& operator=(const concurrent_writers&) = delete;
  /// Stops and joins the writers.
  ~concurrent_writers();

  /// Waits until at least `transactions` have committed in all, or `timeout` passed.
  /// @returns whether they had.
  bool wait_for(std::int64_t transactions, std::chrono::milliseconds timeout) const;

  /// Stops the writers and waits for them: a transaction under way finishes first.
  void stop();

  [[nodiscard]] std::int64_t committed() const noexcept { return committed_.load(); }
  /// The first error a writer met, if any (a writer stops at its first error).
  [[nodiscard]] std::string first_error() const;

 private:
  void write(store& target, int thread);

  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> committed_{0};
  mutable std::mutex error_mutex_;
  std::string first_error_;
  std::vector<std::thread> threads_;
};

}  // namespace evstore::test
