#pragma once

/// @file
/// The SQL that differs between databases, supplied by each SQL backend plugin and used by
/// the core's generic code (the migration engine now; the repositories later).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/export.hpp"

namespace soci {
class session;
}

namespace evstore {

/// A database's SQL dialect. Member functions are const and thread-safe; they throw only
/// evstore::error types (the backend's rethrow_translated maps what the database reports).
class EVSTORE_API dialect {
 public:
  dialect() = default;
  dialect(const dialect&) = delete;
  dialect& operator=(const dialect&) = delete;
  virtual ~dialect();

  /// Splits a script into its statements, in order, without the terminating `;`, dropping
  /// empty ones. Must understand the database's quoting (strings, identifiers, comments,
  /// dollar quotes, trigger bodies) so that a `;` inside them does not split.
  [[nodiscard]] virtual std::vector<std::string> split_statements(
      std::string_view script) const = 0;

  /// The statement that starts a transaction which will write, taking the write lock up
  /// front where the database has one (SQLite: BEGIN IMMEDIATE).
  [[nodiscard]] virtual std::string begin_write() const = 0;

  /// CREATE TABLE IF NOT EXISTS for the migration history table `evstore_schema_migrations`:
  /// scope TEXT, version BIGINT, name TEXT, checksum TEXT, applied_at (this dialect's
  /// timestamp), execution_ms BIGINT, applied_by TEXT, rehashed_from TEXT NULL,
  /// primary key (scope, version).
  [[nodiscard]] virtual std::string create_history_table() const = 0;

  /// The current time as an SQL expression of this dialect's timestamp type.
  [[nodiscard]] virtual std::string now() const = 0;

  /// An SQL expression rendering the timestamp expression `column` as ISO-8601 UTC text.
  [[nodiscard]] virtual std::string timestamp_text(std::string_view column) const = 0;

  /// A query returning one row with one integer: 1 when table `table` exists, else 0.
  /// `table` is one of evstore's own table names, never user input.
  [[nodiscard]] virtual std::string table_exists(std::string_view table) const = 0;

  // The repositories' SQL. Each `param` is a bound name such as ":start_time"; each `column` a
  // column or expression. Values cross the boundary as text (UUIDs, JSON) and as 64-bit
  // integers of microseconds since the Unix epoch (timestamps), exact for years 1 to 9999.

  /// An expression of the timestamp column type from a bound integer of microseconds.
  [[nodiscard]] virtual std::string timestamp_from_micros(std::string_view param) const = 0;
  /// A result column, read as a 64-bit integer, of microseconds since the epoch from a
  /// timestamp column. The core reads it through the backend's statements: natively when the
  /// backend has native statements (whose reader may convert, as PostgreSQL's reads a bare
  /// timestamptz), else through SOCI, where it must be an integer expression.
  [[nodiscard]] virtual std::string micros_from_timestamp(std::string_view column) const = 0;
  /// An expression of the UUID column type from bound text.
  [[nodiscard]] virtual std::string uuid_from_text(std::string_view param) const = 0;
  /// A result column, read as text, of a UUID column in lower case; read as
  /// micros_from_timestamp says.
  [[nodiscard]] virtual std::string text_from_uuid(std::string_view column) const = 0;
  /// An expression of the JSON column type from bound JSON text.
  [[nodiscard]] virtual std::string json_from_text(std::string_view param) const = 0;
  /// A text expression of a JSON column.
  [[nodiscard]] virtual std::string text_from_json(std::string_view column) const = 0;
  /// A condition: the JSON document in `column` contains the bound JSON `param`, with
  /// PostgreSQL's jsonb @> semantics (objects by subset, arrays by element, scalars by value).
  [[nodiscard]] virtual std::string json_contains(std::string_view column,
                                                  std::string_view param) const = 0;
  /// A condition: the text in `column` contains the bound text `param`, ignoring case, with
  /// every character matched literally (no wildcards).
  [[nodiscard]] virtual std::string contains_ignoring_case(std::string_view column,
                                                           std::string_view param) const = 0;
  /// Appended to a SELECT that picks rows to claim: makes concurrent claimers skip each
  /// other's rows ("FOR UPDATE SKIP LOCKED"), or empty where write transactions already
  /// serialise claimers (SQLite).
  [[nodiscard]] virtual std::string skip_locked_rows() const = 0;

  /// Takes the cross-process migration lock for this database, waiting at most `timeout`.
  /// Returns false when it could not be had in time. A backend whose write transactions
  /// already serialise migrators (SQLite) may return true without locking.
  [[nodiscard]] virtual bool lock_migrations(soci::session& session,
                                             std::chrono::milliseconds timeout) const = 0;

  /// Releases what lock_migrations took.
  virtual void unlock_migrations(soci::session& session) const = 0;

  /// Who holds the migration lock now ("pid 4242, application evstore, since 2026-11-25
  /// 10:00:00+00"), when the backend can tell and someone does.
  [[nodiscard]] virtual std::optional<std::string> migration_lock_holder(
      soci::session& session) const = 0;

  /// Takes the migration lock (the same one as lock_migrations) for the current transaction
  /// only, waiting at most `timeout`: its COMMIT or ROLLBACK releases it. For migrations
  /// through a transaction-mode pooler, which keeps no session lock (migrator_options::
  /// single_transaction). Added in ABI 2. Returns false when it could not be had in time.
  /// @throws migration_error when the backend has no such lock (the default): its
  ///         migrations then need a direct connection.
  [[nodiscard]] virtual bool lock_migrations_in_transaction(
      soci::session& session, std::chrono::milliseconds timeout) const;

  // Read replicas (added in ABI 2). Positions are 64-bit integers in the backend's units (a
  // WAL byte offset on PostgreSQL): a replica that has replayed up to a primary's write
  // position P shows every transaction committed before the primary reported P.

  /// A query returning one row with one integer: on the primary, a write position at or past
  /// the end of every transaction this session has committed. Empty (the default) when the
  /// backend has no read replicas: a store with read URLs is then refused.
  [[nodiscard]] virtual std::string write_position() const;
  /// A query returning one row with one integer: on a replica, the position it has replayed
  /// up to; -1 on a server that is not a replica. Empty (the default) as write_position().
  [[nodiscard]] virtual std::string replay_position() const;
};

}  // namespace evstore
