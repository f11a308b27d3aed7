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
};

}  // namespace evstore
