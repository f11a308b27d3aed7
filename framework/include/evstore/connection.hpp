#pragma once

/// @file
/// One open database connection, on whichever backend its URL names.

#include <chrono>
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

 private:
  connection(std::shared_ptr<const evstore::backend> backend,
             std::unique_ptr<soci::session> session);

  std::shared_ptr<const evstore::backend> backend_;
  std::unique_ptr<soci::session> session_;
  query_log_options query_log_;
};

}  // namespace evstore
