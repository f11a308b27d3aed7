#pragma once

// Internal: where a repository gets its connection. Not part of the SDK.

#include <functional>

#include "evstore/connection.hpp"
#include "evstore/dialect.hpp"
#include "evstore/export.hpp"
#include "evstore/validation.hpp"

namespace evstore::detail {

// Exported for tests that run repositories on a connection of their own.
class EVSTORE_API connection_source {
 public:
  connection_source(const dialect& sql, const validation_limits& limits)
      : sql_(sql), limits_(limits) {}
  connection_source(const connection_source&) = delete;
  connection_source& operator=(const connection_source&) = delete;
  virtual ~connection_source();

  /// Runs `work` on a connection. Failures reach the caller as evstore::error types.
  virtual void run(const std::function<void(connection&)>& work) = 0;

  /// Runs `work` atomically: in a write transaction of its own (retried under the store's
  /// policy), or within the enclosing transaction.
  virtual void run_atomically(const std::function<void(connection&)>& work) = 0;

  [[nodiscard]] const dialect& sql() const noexcept { return sql_; }
  [[nodiscard]] const validation_limits& limits() const noexcept { return limits_; }

 private:
  const dialect& sql_;
  const validation_limits& limits_;
};

/// Runs `work` on `conn`, turning any foreign exception (SOCI's) into the evstore::error the
/// backend maps it to.
EVSTORE_API void translating(connection& conn, const std::function<void()>& work);

}  // namespace evstore::detail
