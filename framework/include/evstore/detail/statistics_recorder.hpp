#pragma once

// Internal: the counters behind store::statistics(). Not part of the SDK.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "evstore/export.hpp"
#include "evstore/store_statistics.hpp"

namespace evstore::detail {

/// The operation a repository function is, from its name as std::source_location gives it
/// ("evstore::event evstore::event_repository::create(const evstore::new_event&)"):
/// "events.create". event_repository is "events" and media_repository "media", as the store
/// names them; another class keeps its name ("transaction.savepoint"), a free function has
/// its name alone.
[[nodiscard]] EVSTORE_API std::string operation_name(std::string_view function_name);

/// Thread-safe counters of one store.
class EVSTORE_API statistics_recorder {
 public:
  /// Counts one finished call of the function named `function_name` (a
  /// std::source_location::function_name(), whose address is stable: it is the cache key).
  void record(const char* function_name, std::chrono::steady_clock::duration took, bool failed);

  void transaction_committed() noexcept { committed_.fetch_add(1, std::memory_order_relaxed); }
  void transaction_failed() noexcept { failed_.fetch_add(1, std::memory_order_relaxed); }
  void transaction_retried() noexcept { retries_.fetch_add(1, std::memory_order_relaxed); }
  void commit_outcome_unknown() noexcept { unknown_.fetch_add(1, std::memory_order_relaxed); }

  [[nodiscard]] store_statistics snapshot() const;

 private:
  mutable std::mutex mutex_;
  // Guarded by mutex_: by operation name, and the name's entry by function name address.
  std::map<std::string, operation_statistics, std::less<>> operations_;
  std::unordered_map<const char*, operation_statistics*> by_function_;
  std::atomic<std::uint64_t> committed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> unknown_{0};
};

}  // namespace evstore::detail
