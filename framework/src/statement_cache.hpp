#pragma once

// Private to libevstore: a connection's prepared statements, kept for re-execution. SOCI
// 4.0.3 has no statement cache: without one, every statement on PostgreSQL costs a
// PREPARE, an EXECUTE and a DEALLOCATE round trip.

#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <soci/soci.h>

#include "evstore/connection.hpp"
#include "evstore/detail/bindings.hpp"
#include "evstore/native_statements.hpp"

namespace evstore::detail {

/// A statement prepared on a session: natively, when the backend has native statements, or
/// else through SOCI, with the storage SOCI reads its parameters from and writes its row into
/// (both live as long as the statement, at stable addresses). Scalar binds only: SOCI
/// re-sends stale buffers when a vector-bound statement is re-executed (SOCI issues #910 and
/// #1167).
struct prepared_statement {
  std::unique_ptr<native_statement> native;
  std::optional<soci::statement> statement;
  bindings values;
  /// The row SOCI reads into, of the shape its cache key names.
  std::shared_ptr<void> row;
  /// Whether the statement is prepared and bound (false: a new one, to set up before use).
  bool ready = false;
};

/// The prepared statements of one connection, keyed by their SQL text (and the shapes of
/// their parameters and row), least recently used evicted beyond the capacity. Not
/// thread-safe, like the connection that owns it.
class statement_cache {
 public:
  /// @param native the backend's native statements, or nullptr to run statements through SOCI.
  statement_cache(std::size_t capacity, const native_statements* native)
      : capacity_(capacity), native_(native) {}
  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  /// The cached statement for `key`, or a new, not yet ready one cached under it (evicting
  /// the least recently used beyond the capacity). nullptr when the capacity is 0: the caller
  /// then runs a one-off statement.
  [[nodiscard]] prepared_statement* find_or_add(const std::string& key);

  /// The backend's native statements; nullptr when statements run through SOCI.
  [[nodiscard]] const native_statements* native() const noexcept { return native_; }

  /// Forgets the statement cached under `key` after it failed, so that a broken statement (a
  /// plan invalidated by a schema change, a half-read result) is never reused. It is
  /// destroyed on the next find_or_add, not now: on PostgreSQL its destructor sends DEALLOCATE,
  /// which the failed transaction or a lost connection would refuse or hang on.
  void forget(const std::string& key) noexcept;

  /// Destroys every statement (which may talk to the server: call it only while the session
  /// is usable, or after the backend has closed it).
  void clear() noexcept;

  [[nodiscard]] statement_cache_metrics metrics() const noexcept;

 private:
  struct entry {
    std::string key;
    std::unique_ptr<prepared_statement> statement;
  };
  using entries = std::list<entry>;

  std::size_t capacity_;
  const native_statements* native_;
  entries entries_;  // front = most recently used
  std::unordered_map<std::string_view, entries::iterator> index_;
  std::vector<std::unique_ptr<prepared_statement>> forgotten_;
  statement_cache_metrics counters_{};
};

}  // namespace evstore::detail
