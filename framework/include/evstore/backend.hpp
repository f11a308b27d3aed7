#pragma once

/// @file
/// The interface every backend plugin implements: the contract between libevstore and a
/// plugin, ours or a third party's. See docs/plugins.md.
///
/// A backend is created once per process by the plugin's factory (evstore/plugin.hpp) and
/// shared by every connection to its database type, from any thread: its member functions
/// are const and must be thread-safe. It throws only evstore::error types.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "evstore/config.hpp"
#include "evstore/dialect.hpp"
#include "evstore/export.hpp"
#include "evstore/migration.hpp"
#include "evstore/statement_statistics.hpp"

namespace soci {
class session;
}

namespace evstore {

/// Whether a connection pooler (PgBouncer, pgcat, RDS Proxy, ...) stands between evstore and
/// the database server, and how it pools; see docs/deployment.md.
enum class pooler_mode : std::uint8_t {
  /// No pooler, or one that passes everything through: session settings are sent once, at
  /// connect (PostgreSQL: in the startup packet's `options`).
  none,
  /// A session-pooling pooler: each client keeps one server connection until it disconnects,
  /// but the pooler refuses startup `options` (PgBouncer): session settings are sent with
  /// `SET` right after connecting.
  session,
  /// A transaction-pooling pooler: a client holds a server connection only for one
  /// transaction (or one statement outside a transaction), then another client may get it.
  /// No startup `options`, no session `SET` (it would leak to other clients), no named
  /// prepared statement (it lives on one server connection): session settings are applied
  /// inside each transaction and for each statement (PostgreSQL: `set_config(..., true)`
  /// in the same round trip), and statements are sent unnamed. Migrations need a direct
  /// connection to the server (store_options::direct_url).
  transaction,
};

/// "none", "session" or "transaction".
[[nodiscard]] EVSTORE_API const char* to_string(pooler_mode mode) noexcept;

/// How to open a connection; the URL's own parameters take precedence where both apply.
struct connect_options {
  /// The longest a connection attempt may take.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// How long SQLite waits for a lock before answering busy.
  std::chrono::milliseconds busy_timeout{std::chrono::seconds(5)};
  /// Shown by the server in its session list (PostgreSQL application_name).
  std::string application_name = "evstore";
  /// The server-side limit of one statement (PostgreSQL `statement_timeout`, sent with the
  /// connection's startup options unless the URL's `options` set it already): the server
  /// cancels a statement running longer, which fails with timeout_error and leaves the
  /// connection usable. 0 = no limit. Backends without such a setting ignore it.
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(30)};

  /// How many prepared statements each connection keeps for re-execution (least recently
  /// used let go beyond it); 0 prepares none: every statement is sent whole, in one round trip
  /// (for PgBouncer in transaction pooling mode, which cannot keep prepared statements).
  std::size_t statement_cache_size = 64;

  /// The pooler between evstore and the server (URL `pooler=`, EVSTORE_POOLER). Backends
  /// without a server ignore it. Added in evstore 1.2, after every member above, so that a
  /// plugin built against 1.1 reads the members it knows where they always were.
  pooler_mode pooler = pooler_mode::none;
};

/// How backend::copy_rows writes a column's values.
enum class bulk_type : std::uint8_t {
  text,     ///< text
  uuid,     ///< a UUID, as lower-case text
  json,     ///< a JSON document, as compact text (no whitespace between tokens), as
            ///< nlohmann::json::dump() writes it
  integer,  ///< a 64-bit integer
  instant,  ///< a point in time, as an integer of microseconds since the Unix epoch (UTC)
};

/// A column given to backend::copy_rows: one of evstore's own column names, never user input.
struct bulk_column {
  std::string_view name;
  bulk_type type = bulk_type::text;
};

/// A value given to backend::copy_rows: NULL (std::monostate), text (text, uuid and json
/// columns) or an integer (integer and instant columns).
using bulk_value = std::variant<std::monostate, std::string, std::int64_t>;

/// A database backend, such as PostgreSQL or SQLite, served through SOCI.
class EVSTORE_API backend {
 public:
  backend() = default;
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;
  virtual ~backend();

  /// The backend's name, equal to the one in the plugin descriptor ("postgresql").
  [[nodiscard]] virtual std::string name() const = 0;

  /// The URL schemes it serves, lower case ({"postgresql", "postgres"}).
  [[nodiscard]] virtual std::vector<std::string> schemes() const = 0;

  /// Opens a configured SOCI session (pragmas and session settings applied).
  /// @throws config_error when the URL does not fit this backend,
  ///         connection_error when the database cannot be reached or refuses the login.
  [[nodiscard]] virtual std::unique_ptr<soci::session> open(
      const database_url& url, const connect_options& options) const = 0;

  /// Whether the database at `url` lives only as long as its one connection (an in-memory
  /// SQLite database: every connection would be a database of its own). A store then keeps
  /// exactly one connection open for its whole life.
  [[nodiscard]] virtual bool single_connection_database(const database_url& url) const = 0;

  /// The server's (or the embedded library's) version, e.g. "15.18" or "3.40.1".
  /// @throws the evstore::error the failure maps to.
  [[nodiscard]] virtual std::string server_version(soci::session& session) const = 0;

  /// Runs the smallest query there is (`SELECT 1`) on `session` and returns its round trip,
  /// waiting at most `deadline` for the answer. The wait is bounded on the client side, so a
  /// hung server (a stopped process, which TCP keepalives cannot see) cannot hold the caller.
  /// Used by health checks.
  /// @throws timeout_error when no answer came within `deadline`; the session is then left
  ///         with a query in flight and must be discarded (mark its pool lease broken).
  /// @throws connection_error when the connection is unusable; other evstore::error types as
  ///         the failure maps to.
  [[nodiscard]] virtual std::chrono::microseconds ping(
      soci::session& session, std::chrono::milliseconds deadline) const = 0;

  /// The backend's SQL dialect, or nullptr for a backend that is not SQL (it then cannot
  /// run migrations or the core's generic repositories).
  [[nodiscard]] virtual const dialect* sql_dialect() const = 0;

  /// The backend's built-in schema migrations, in version order (scope "evstore"); their
  /// sources live in the repository's migrations/<backend>/ and are embedded at build time.
  [[nodiscard]] virtual std::vector<migration> migrations() const = 0;

  /// Rethrows `failure` (typically a soci::soci_error caught around a statement) as the
  /// evstore::error its native code maps to, with `context` (what was being done) in the
  /// message and credentials redacted. An evstore::error is rethrown unchanged.
  /// This is the plugin's one place that maps native error codes.
  [[noreturn]] virtual void rethrow_translated(std::exception_ptr failure,
                                               std::string_view context) const = 0;

  /// Writes a complete, consistent backup of the database at `url` to the file `output`
  /// (created or replaced), while other connections may go on writing: a snapshot of one
  /// instant. Its format is the backend's own (PostgreSQL: a `pg_dump -Fc` archive; SQLite:
  /// a database file); restore() reads it back. Call it through evstore::backup_to_file,
  /// which writes to a temporary file and renames it, so that `output` is never partial.
  /// Credentials never appear in a command line, a log or a message.
  /// @throws config_error when the URL cannot be backed up (an in-memory database) or a tool
  ///         it needs is missing or of the wrong version; connection_error when the database
  ///         cannot be reached; error (category database) when the backup fails.
  virtual void backup(const database_url& url, const std::filesystem::path& output) const = 0;

  /// Replaces the contents of the database at `url` with the backup in `input`, made by
  /// backup() of the same backend. The caller decides whether the database may be
  /// overwritten (evstore::database_holds_data); this function does not ask.
  /// @throws config_error when `input` is not a backup of this backend or a tool is missing
  ///         or of the wrong version; connection_error; error (category database) when the
  ///         restore fails (PostgreSQL: rolled back whole; SQLite: the destination is
  ///         unchanged unless the failure came while writing it).
  virtual void restore(const database_url& url, const std::filesystem::path& input) const = 0;

  /// The `limit` statements of this database that took the most execution time in total,
  /// with their calls, mean time and rows, as the database tracks them (PostgreSQL:
  /// pg_stat_statements), for `evstore stats`. Read-only: it never installs or enables
  /// anything; when tracking is off it answers not_enabled with the steps that enable it.
  /// Statement texts are the database's normalised ones and may hold any SQL that ran (a
  /// caller that shows them redacts the password it knows, as `evstore stats` does).
  /// Not pure: the default answers not_supported, naming this backend.
  /// @throws the evstore::error a failure of the database maps to.
  [[nodiscard]] virtual statement_statistics top_statements(soci::session& session,
                                                            std::size_t limit) const;

  /// Makes a call blocked on `session` return soon, with any error: the core's client-side
  /// deadline (store_options::call_timeout) calls it when the database has not answered in
  /// time, e.g. a hung server (a stopped process), which TCP keepalives and tcp_user_timeout
  /// do not detect on loopback, where the kernel still acknowledges (docs/dependencies.md).
  ///
  /// The contract:
  /// - It is called from another thread than the one using `session`, while that thread may
  ///   be blocked in a statement on it, or may be between statements (then the next
  ///   statement, or the one under way, fails). The session is alive for the whole call and
  ///   the core never calls it again for that session, nor after the statement finished and
  ///   the session went back to the pool.
  /// - It must not block: no network round trip in the calling thread (a cancel request to a
  ///   hung server hangs too). Work that may block belongs on a thread of its own that does
  ///   not touch `session`.
  /// - It must not throw, and may leave the session unusable: the core discards the
  ///   connection afterwards and reports timeout_error (commit_unknown when COMMIT was under
  ///   way).
  ///
  /// The default does nothing: a backend without it cannot be bounded by the deadline.
  /// PostgreSQL sends a cancel request (on a helper thread) and shuts the socket down;
  /// SQLite calls sqlite3_interrupt.
  virtual void interrupt(soci::session& session) const noexcept;

  /// Closes `session`'s connection to the server at once, without a round trip. Called when a
  /// connection is discarded, before the statements still prepared on it are destroyed, so
  /// that their destructors do not talk to a server that may be gone or hung (SOCI's
  /// PostgreSQL statements send DEALLOCATE when destroyed). Afterwards only destructors run on
  /// the session and its statements, and they must not fail. The default does nothing, which
  /// is right where destroying a statement is local (SQLite).
  virtual void close_now(soci::session& session) const noexcept;

  /// An optional fast path for bulk inserts (PostgreSQL: COPY ... FROM STDIN): inserts rows
  /// into `table` in one operation, in the session's current transaction, every row or none.
  /// `values` holds the rows one after the other, `columns.size()` values each, every value
  /// exactly as given (no escaping by the caller). Columns not named take their defaults.
  /// The core's repositories call it for large batches inside a transaction of their own,
  /// and insert row by row when it returns false.
  /// @returns false, having done nothing, when the backend has no such path (the default).
  /// @throws constraint_violation (with the SQLSTATE) when a row breaks a constraint (a
  ///         foreign key, a duplicate key); other evstore::error types as the failure maps to.
  ///         After a throw, nothing was inserted and the transaction must be rolled back.
  [[nodiscard]] virtual bool copy_rows(soci::session& session, std::string_view table,
                                       std::span<const bulk_column> columns,
                                       std::span<const bulk_value> values) const;
};

}  // namespace evstore
