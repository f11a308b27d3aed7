#pragma once

/// @file
/// One open database connection, on whichever backend its URL names.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "evstore/backend.hpp"
#include "evstore/config.hpp"
#include "evstore/export.hpp"
#include "evstore/plugin_registry.hpp"

namespace soci {
class session;
}

namespace evstore {

namespace detail {
class statement_cache;
}

/// The figures of a connection's prepared-statement cache. Counters count from the
/// connection's opening.
struct statement_cache_metrics {
  std::size_t size = 0;         ///< statements prepared and kept now
  std::size_t capacity = 0;     ///< the most it keeps (connect_options::statement_cache_size)
  std::uint64_t hits = 0;       ///< statements run again without preparing them
  std::uint64_t misses = 0;     ///< statements prepared and kept (0 when the cache is off)
  std::uint64_t evictions = 0;  ///< least recently used statements let go beyond the capacity
  std::uint64_t failures = 0;   ///< kept statements let go because running them failed
};

/// How a connection logs its statements (spdlog). The URL and credentials are never logged.
struct query_log_options {
  /// Every statement at debug level, with its SQL, duration and row count.
  bool enabled = false;
  /// Include the bound values; off, only their number is logged (they may be personal data).
  bool parameters = false;
  /// A statement slower than this is a warning, whether or not `enabled`; 0 turns it off.
  std::chrono::milliseconds slow_threshold{500};
};

/// A SOCI session together with the backend that opened it. The backend (and so its plugin
/// library) stays alive at least as long as the connection. Not thread-safe: one thread at
/// a time.
class EVSTORE_API connection {
 public:
  /// Opens a connection through the plugin that serves `url.scheme`.
  /// @throws plugin_error when no plugin serves the scheme; config_error or connection_error
  ///         from the backend.
  [[nodiscard]] static connection open(const plugin_registry& plugins, const database_url& url,
                                       const connect_options& options);

  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  /// The backend serving this connection.
  [[nodiscard]] const evstore::backend& backend() const noexcept { return *backend_; }

  /// The name of the backend serving this connection.
  [[nodiscard]] std::string backend_name() const;

  /// The server's or embedded library's version.
  [[nodiscard]] std::string server_version();

  /// Runs the smallest query there is and returns its round-trip time.
  /// @throws the evstore::error the failure maps to.
  [[nodiscard]] std::chrono::microseconds ping();

  /// Runs one statement that returns no rows.
  /// @throws the evstore::error the failure maps to (constraint_violation, transient_error, ...).
  void execute(const std::string& sql);

  /// Sets how this connection logs its statements.
  void set_query_log(const query_log_options& options) noexcept { query_log_ = options; }

  /// Logs a finished statement under the query log options (the core's statement helpers call
  /// it). @param parameters describes the bound values; called only when they are logged.
  void log_statement(std::string_view sql, std::chrono::steady_clock::duration took, long long rows,
                     const std::function<std::string(bool values)>& parameters) const;

  /// The underlying SOCI session, for code that runs its own statements.
  [[nodiscard]] soci::session& session() noexcept { return *session_; }

  /// The figures of this connection's prepared-statement cache.
  [[nodiscard]] statement_cache_metrics statement_cache() const noexcept;

  /// Internal (the core's repositories): the statements prepared on this connection and kept
  /// for re-execution.
  [[nodiscard]] detail::statement_cache& statements() noexcept { return *statements_; }

 private:
  connection(std::shared_ptr<const evstore::backend> backend,
             std::unique_ptr<soci::session> session, std::size_t statement_cache_size);
  // Destroys the kept statements and the session, the server connection first.
  void close() noexcept;

  std::shared_ptr<const evstore::backend> backend_;
  std::unique_ptr<soci::session> session_;
  // Declared after the session: its statements go first.
  std::unique_ptr<detail::statement_cache> statements_;
  query_log_options query_log_;
};

}  // namespace evstore
