#pragma once

/// @file
/// A thread-safe pool of database connections: bounded size, FIFO hand-off to waiters, an
/// acquire deadline, validation of idle connections, idle timeout, maximum lifetime, a
/// minimum of idle connections, leak warnings and metrics.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <source_location>

#include "evstore/connection.hpp"
#include "evstore/export.hpp"

namespace evstore {

namespace detail {
class pool_state;
struct pooled_connection;
}  // namespace detail

/// The default pool size: max(4, 2 * std::thread::hardware_concurrency()).
[[nodiscard]] EVSTORE_API std::size_t default_pool_max_size() noexcept;

/// How a connection_pool behaves. Durations of zero mean "never" where noted; durations
/// longer than 100 years (such as milliseconds::max()) are treated as 100 years.
struct pool_settings {
  /// The most connections that exist at once, open or being opened. At least 1.
  std::size_t max_size = default_pool_max_size();
  /// Connections the housekeeper keeps open and idle; the pool uses min(min_idle, max_size).
  std::size_t min_idle = 0;
  /// The contract of acquire(): a caller gets a connection or pool_timeout within this time,
  /// even while a connection is being opened for it (opening runs on a helper thread).
  std::chrono::milliseconds acquire_timeout{5000};
  /// An idle connection unused for longer than this is closed, down to min_idle; 0 = never.
  std::chrono::milliseconds idle_timeout{600000};
  /// A connection older than this is closed when it is returned or while it is idle; each
  /// connection's lifetime is shortened by a random 0-10 % so that they do not all expire
  /// together. 0 = never.
  std::chrono::milliseconds max_lifetime{1800000};
  /// A connection idle for longer than this is validated before it is handed out; one that
  /// fails is closed and another is used or opened. 0 = validate every hand-out.
  std::chrono::milliseconds validation_threshold{5000};
  /// A connection held for longer than this logs one spdlog warning naming where it was
  /// borrowed (file:line function), the borrowing thread and its age. 0 = off.
  std::chrono::milliseconds leak_threshold{0};
  /// How often the housekeeper enforces idle_timeout, max_lifetime, min_idle and leak
  /// warnings. Values below 1 ms are treated as 1 ms.
  std::chrono::milliseconds housekeeping_interval{1000};
  /// Decides whether an idle connection is still usable; false or any exception means it is
  /// not. Empty (the default): backend::ping() must answer within what is left of the
  /// caller's acquire timeout (at least 10 ms), so that a hung server cannot hold acquire()
  /// past it; a connection whose ping times out is closed. Called outside the pool's
  /// lock, possibly from several threads at once (each with its own connection).
  std::function<bool(connection&)> validate{};
};

/// A snapshot of a pool's figures. Counters (`created`, `destroyed_*`, `acquire_*`...) count
/// from the pool's construction.
struct pool_metrics {
  std::size_t size = 0;                    ///< connections that exist: idle + in_use + opening
  std::size_t idle = 0;                    ///< open and waiting in the pool
  std::size_t in_use = 0;                  ///< handed out (or being handed out) to callers
  std::size_t opening = 0;                 ///< being opened by the factory
  std::size_t waiting = 0;                 ///< callers blocked in acquire()
  std::size_t max_size = 0;                ///< pool_settings::max_size
  std::uint64_t created = 0;               ///< connections the factory opened
  std::uint64_t timeouts = 0;              ///< acquire() calls that ended with pool_timeout
  std::uint64_t acquired = 0;              ///< acquire() calls that returned a connection
  std::uint64_t destroyed_broken = 0;      ///< returned after lease::mark_broken()
  std::uint64_t destroyed_idle = 0;        ///< idle past idle_timeout
  std::uint64_t destroyed_lifetime = 0;    ///< past max_lifetime
  std::uint64_t destroyed_validation = 0;  ///< failed validation before a hand-out
  std::uint64_t destroyed_closed = 0;      ///< closed by, or returned after, close()

  /// Upper bounds of the acquire-time histogram buckets.
  static constexpr std::array<std::chrono::microseconds, 8> acquire_buckets = {
      std::chrono::microseconds{100},    std::chrono::microseconds{1000},
      std::chrono::microseconds{5000},   std::chrono::microseconds{10000},
      std::chrono::microseconds{50000},  std::chrono::microseconds{100000},
      std::chrono::microseconds{500000}, std::chrono::microseconds{1000000}};
  /// Cumulative: acquire_histogram[i] counts the successful acquisitions that took at most
  /// acquire_buckets[i]; acquire_count is the "+Inf" bucket.
  std::array<std::uint64_t, 8> acquire_histogram{};
  std::uint64_t acquire_count = 0;                  ///< successful acquisitions (= acquired)
  std::chrono::microseconds acquire_time_total{0};  ///< their summed waiting time
};

/// A thread-safe pool of connections made by a factory. Neither copyable nor movable: the
/// leases it hands out refer to it.
///
/// Waiters are served first come, first served: a returned or newly opened connection goes
/// straight to the caller that has waited longest, never to a later arrival. At most
/// `max_size` connections exist at once, counting those being opened. Connections are opened
/// on helper threads, outside the pool's lock, so that a slow or hung database cannot hold a
/// caller past its acquire_timeout. A background housekeeper thread enforces idle_timeout,
/// max_lifetime, min_idle and leak warnings; close() (or the destructor) stops it.
class EVSTORE_API connection_pool {
 public:
  /// Opens one new connection. May throw (typically an evstore::error); may be called from
  /// several helper threads at once, and never after close() has returned.
  using factory = std::function<connection()>;

  /// A borrowed connection: move-only, returns the connection to its pool when destroyed.
  /// If the pool has been closed or destroyed by then, the connection is closed instead.
  /// Like the connection itself, a lease is used by one thread at a time.
  class EVSTORE_API lease {
   public:
    /// An empty lease, holding no connection.
    lease() noexcept;
    lease(lease&& other) noexcept;
    /// Returns the connection this lease holds (if any), then takes over `other`'s.
    lease& operator=(lease&& other) noexcept;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    /// Returns the connection to the pool (or closes it, see mark_broken()).
    ~lease();

    /// The borrowed connection. The lease must not be empty.
    [[nodiscard]] connection& get() const noexcept;
    [[nodiscard]] connection& operator*() const noexcept { return get(); }
    [[nodiscard]] connection* operator->() const noexcept { return &get(); }
    /// Whether this lease holds a connection (false once moved from).
    [[nodiscard]] explicit operator bool() const noexcept { return entry_ != nullptr; }

    /// Asks that the connection be closed, not reused, when the lease returns it (for a
    /// connection that failed in a way that leaves it unusable). The pool may then open a
    /// replacement. The lease must not be empty.
    void mark_broken() noexcept;

   private:
    friend class detail::pool_state;
    lease(std::shared_ptr<detail::pool_state> pool,
          std::unique_ptr<detail::pooled_connection> entry) noexcept;
    void give_back() noexcept;

    std::shared_ptr<detail::pool_state> pool_;
    std::unique_ptr<detail::pooled_connection> entry_;
  };

  /// Creates the pool and starts its housekeeper. Opens no connection now; the housekeeper
  /// opens `min_idle` of them in the background.
  /// @param open makes new connections; kept (and called) until close() returns.
  /// @throws config_error when `open` is empty, max_size is 0 or a duration is negative.
  /// @throws std::system_error when the housekeeper thread cannot be started.
  connection_pool(factory open, pool_settings settings);

  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  connection_pool(connection_pool&&) = delete;
  connection_pool& operator=(connection_pool&&) = delete;

  /// close().
  ~connection_pool();

  /// Borrows a connection: an idle one (validated first if it has been idle for longer than
  /// validation_threshold), or a new one if the pool is below max_size, or the next one
  /// returned, in order of arrival.
  /// @param where the borrowing site, named in leak warnings.
  /// @throws pool_timeout when none is available within acquire_timeout; the message gives
  ///         the timeout and the pool's figures.
  /// @throws pool_reentry at once, without waiting, when the calling thread already holds
  ///         every connection the pool may have (max_size of them, e.g. the only one of a
  ///         one-connection pool): none could come before it gives one back. A lease counts as
  ///         held by the thread that acquired it, wherever it was moved since.
  /// @throws connection_error "the pool is closed" once close() has begun, also to callers
  ///         waiting at that moment.
  /// @throws whatever the factory threw while opening a connection for this caller.
  [[nodiscard]] lease acquire(std::source_location where = std::source_location::current());

  /// As acquire(), but waits at most `timeout` instead of the pool's acquire_timeout: for a
  /// caller with a deadline of its own, such as a health check, which must answer in time
  /// even when every connection is in use. A negative timeout counts as zero (a connection
  /// is had only if one can be handed over at once).
  /// @throws pool_timeout when none is available within `timeout`; otherwise as acquire().
  [[nodiscard]] lease acquire_within(std::chrono::milliseconds timeout,
                                     std::source_location where = std::source_location::current());

  /// Closes the pool: closes the idle connections, wakes every waiter with connection_error,
  /// stops the housekeeper and waits for connections being opened (which are then closed).
  /// Leases still out close their connection when they are destroyed. Idempotent; thread-safe.
  void close();

  /// Closes every idle connection now, counted as broken: for a server known to have gone
  /// away (a restarted read replica), whose idle connections are all dead and would each fail
  /// one caller. Connections in use are left to their holders. Thread-safe.
  /// @returns how many were closed.
  std::size_t discard_idle() noexcept;

  /// A consistent snapshot of the pool's figures.
  [[nodiscard]] pool_metrics metrics() const;

  /// The settings in effect (min_idle already limited to max_size).
  [[nodiscard]] const pool_settings& settings() const noexcept;

 private:
  // Shared with the leases and the helper threads, which may outlive this object.
  std::shared_ptr<detail::pool_state> state_;
};

}  // namespace evstore
