#pragma once

/// @file
/// Read replicas: reads spread over streaming standbys, never older than the caller's own
/// writes. See docs/replicas.md.
///
/// A store opened with read URLs (store_options::read_urls, EVSTORE_READ_URLS) sends reads
/// (get, list, count, timeline, count_by_event) to a replica that qualifies, and everything
/// else (writes, claim_pending, store::transaction, migrations) to the primary. After each
/// write, the store asks the primary for its write position and remembers it for the caller;
/// a read of that caller goes to a replica only once the replica has replayed past it.
///
/// A *caller* is a causal_scope: the store's own repositories are one, and
/// store::scope() makes a new one, for a request or a user, whose position travels
/// between processes as a token:
///
///     auto scope = store->scope();
///     scope.events().create(...);
///     auto again = scope.events().get(id);  // sees the create, from a replica or the primary
///     response.set_header("X-Evstore-Token", scope.token());
///     ...                                   // in another process, another request:
///     auto later = store->scope(request.header("X-Evstore-Token"));

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "evstore/export.hpp"
#include "evstore/repositories.hpp"

namespace evstore {

/// How a store uses its read replicas.
struct replica_options {
  /// A replica further behind the primary than this leaves the rotation until it catches up
  /// (EVSTORE_MAX_REPLICA_LAG). Measured as the time since the primary first wrote what the
  /// replica has not replayed, so an idle replica that has replayed everything is 0 behind.
  std::chrono::milliseconds max_lag{std::chrono::seconds(5)};
  /// How long a read waits for a replica to replay its caller's last write before it goes
  /// to the primary instead (EVSTORE_READ_YOUR_WRITES_WAIT); 0 goes to the primary at once.
  std::chrono::milliseconds read_your_writes_wait{0};
  /// How often each replica's replay position and the primary's write position are checked,
  /// on connections of their own (EVSTORE_REPLICA_CHECK_INTERVAL).
  std::chrono::milliseconds check_interval{100};
};

/// Where a replica stands in the rotation.
enum class replica_state : std::uint8_t {
  unknown,  ///< not checked yet: no reads go to it
  up,       ///< in the rotation
  lagging,  ///< further behind than max_lag: out of the rotation until it catches up
  down,     ///< unreachable, failing, or not a standby: out of the rotation
};

/// "unknown", "up", "lagging" or "down".
[[nodiscard]] EVSTORE_API const char* to_string(replica_state state) noexcept;

/// One read replica as the store sees it at its last check. It holds no credential.
struct replica_status {
  /// host:port/database of the replica's URL: no user, no password.
  std::string name{};
  replica_state state = replica_state::unknown;
  /// Why the state is not `up`; empty when it is.
  std::string reason{};
  /// The replica's replay position and how far the primary's write position is ahead of it,
  /// in the backend's units (WAL bytes on PostgreSQL).
  std::uint64_t replayed = 0;
  std::uint64_t lag_bytes = 0;
  /// How long ago the primary wrote the oldest change the replica has not replayed; 0 when
  /// it has replayed everything. Resolution: one check_interval.
  std::chrono::milliseconds lag{0};
  /// Reads this replica served since the store was opened.
  std::uint64_t reads = 0;
};

namespace detail {
class connection_source;
struct causal_position;
}  // namespace detail

/// A caller whose reads see its own writes: every read through it returns data at least as
/// new as every write made through it, or through the scope its token came from. Reads go to
/// a replica that has replayed that far, else (after replica_options::read_your_writes_wait)
/// to the primary. A cheap handle; copies share one position. Thread-safe.
class EVSTORE_API causal_scope {
 public:
  causal_scope(const causal_scope&);
  causal_scope& operator=(const causal_scope&);
  ~causal_scope();

  [[nodiscard]] event_repository events();
  [[nodiscard]] media_repository media();

  /// The position of this scope's writes as text ("rw1-" and 16 hexadecimal digits), to
  /// carry to another process: store::scope(token) there makes a scope whose reads see
  /// these writes too.
  [[nodiscard]] std::string token() const;

  /// Makes reads through this scope see the writes `token` carries as well.
  /// @throws validation_error when `token` is not one token() made.
  void observe(std::string_view token);

 private:
  friend class store;
  // Makes the connection source of this scope's repositories (store.cpp).
  using source_factory = std::function<std::shared_ptr<detail::connection_source>()>;
  causal_scope(source_factory sources, std::shared_ptr<detail::causal_position> position);

  source_factory sources_;
  std::shared_ptr<detail::causal_position> position_;
};

}  // namespace evstore
