#pragma once

// Internal: where a repository gets its connection. Not part of the SDK.

#include <functional>
#include <source_location>
#include <string>
#include <string_view>
#include <utility>

#include "evstore/connection.hpp"
#include "evstore/detail/statement_texts.hpp"
#include "evstore/detail/statistics_recorder.hpp"
#include "evstore/dialect.hpp"
#include "evstore/export.hpp"
#include "evstore/validation.hpp"

namespace evstore::detail {

// Exported for tests that run repositories on a connection of their own.
class EVSTORE_API connection_source {
 public:
  /// @param statistics counts every run() and run_atomically() by the calling function; it
  ///        must outlive this source.
  /// @param texts keeps the texts of the statements run through this source, for every source
  ///        of the same store (same dialect); it must outlive this source.
  connection_source(const dialect& sql, const validation_limits& limits,
                    statistics_recorder& statistics, statement_texts& texts)
      : sql_(sql), limits_(limits), statistics_(statistics), texts_(texts) {}
  connection_source(const connection_source&) = delete;
  connection_source& operator=(const connection_source&) = delete;
  virtual ~connection_source();

  /// Runs `work` on a connection. Failures reach the caller as evstore::error types.
  /// `caller` names the repository operation in the store's statistics: leave it defaulted,
  /// so that it is the function calling run() ("events.create").
  void run(const std::function<void(connection&)>& work,
           std::source_location caller = std::source_location::current());

  /// Runs `work`, which only reads, on a connection: a read replica's where the store has
  /// one that qualifies (evstore/replicas.hpp), else as run(). `caller` as for run().
  void read(const std::function<void(connection&)>& work,
            std::source_location caller = std::source_location::current());

  /// Runs `work` atomically: in a write transaction of its own (retried under the store's
  /// policy), or within the enclosing transaction. `caller` as for run().
  void run_atomically(const std::function<void(connection&)>& work,
                      std::source_location caller = std::source_location::current());

  [[nodiscard]] const dialect& sql() const noexcept { return sql_; }
  [[nodiscard]] const validation_limits& limits() const noexcept { return limits_; }

  /// The text of the statement named `shape`: built by `build(sql())` on first use, then
  /// reused. The text must depend on nothing but the dialect and `shape`.
  template <typename Build>
  const std::string& text(std::string_view shape, Build&& build) {
    if (const auto* known = texts_.find(shape)) {
      return *known;
    }
    return texts_.add(shape, std::forward<Build>(build)(sql_));
  }

 protected:
  /// run() without the counting.
  virtual void run_on_connection(const std::function<void(connection&)>& work) = 0;
  /// run_atomically() without the counting.
  virtual void run_on_connection_atomically(const std::function<void(connection&)>& work) = 0;
  /// read() without the counting: run_on_connection() unless a source routes reads.
  virtual void run_on_connection_for_read(const std::function<void(connection&)>& work);

 private:
  const dialect& sql_;
  const validation_limits& limits_;
  statistics_recorder& statistics_;
  statement_texts& texts_;
};

/// Runs `work` on `conn`, turning any foreign exception (SOCI's) into the evstore::error the
/// backend maps it to.
EVSTORE_API void translating(connection& conn, const std::function<void()>& work);

}  // namespace evstore::detail
