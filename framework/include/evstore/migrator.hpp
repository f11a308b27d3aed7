#pragma once

/// @file
/// The migration engine: applies, reverts and reports versioned migrations on any SQL
/// backend. docs/migrations.md describes the commands, locking and recovery.
///
/// Two scopes of migrations, each with its own version sequence: the backend's built-in
/// schema (scope "evstore", embedded in the plugin) and the application's own (scope "app",
/// read from a folder), applied after all built-in ones. History lives in the table
/// `evstore_schema_migrations`.
///
/// Guarantees: each migration runs in its own transaction (unless its script opts out), so a
/// failing one leaves schema and history as they were; concurrent migrators apply each
/// migration once (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE, re-checking the
/// history inside); an applied migration whose file changed is an error, not a silent skip.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/connection.hpp"
#include "evstore/export.hpp"
#include "evstore/migration.hpp"

namespace evstore {

/// The two scopes.
inline constexpr std::string_view builtin_scope = "evstore";
inline constexpr std::string_view app_scope = "app";

/// A migration named by scope and version, as in "app:3" or "evstore:1".
struct EVSTORE_API migration_id {
  std::string scope;
  std::int64_t version = 0;

  /// Parses "scope:version" or a bare "version" (then `default_scope`).
  /// @throws config_error for anything else.
  [[nodiscard]] static migration_id parse(std::string_view text, std::string_view default_scope);
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const migration_id&, const migration_id&) = default;
};

enum class migration_state : std::uint8_t {
  applied,   ///< in the history, file unchanged
  pending,   ///< not yet applied
  modified,  ///< applied, but the file's checksum differs from the recorded one
  missing,   ///< in the history, but no file has this version
};

[[nodiscard]] EVSTORE_API const char* to_string(migration_state state) noexcept;

/// One line of `migrate status`.
struct migration_status {
  migration_id id;
  std::string name;
  migration_state state = migration_state::pending;
  std::optional<std::string> applied_at;  ///< as the database stores it
  std::optional<std::int64_t> execution_ms;
  std::string file_checksum;      ///< empty when missing
  std::string recorded_checksum;  ///< empty when pending
};

struct EVSTORE_API migration_report {
  std::vector<migration_status> migrations;
  /// Who holds the migration lock, if anyone does and the backend can tell.
  std::optional<std::string> lock_holder;

  /// Nothing pending, modified or missing.
  [[nodiscard]] bool up_to_date() const noexcept;
  /// Something modified or missing.
  [[nodiscard]] bool drifted() const noexcept;
};

/// What one migration did (or, in a dry run, would do).
struct migration_step {
  migration_id id;
  std::string name;
  bool up = true;                       ///< false for a revert
  std::vector<std::string> statements;  ///< as split by the dialect
  std::chrono::milliseconds took{0};
};

struct migrator_options {
  /// The longest a migrator waits for another one to finish.
  std::chrono::milliseconds lock_timeout{std::chrono::seconds(10)};
  /// Plan and report, change nothing.
  bool dry_run = false;
  /// Recorded in the history as applied_by.
  std::string applied_by;
  /// For a connection through a transaction-mode pooler, which keeps no session lock and may
  /// hand each transaction to another server connection: up() applies every pending
  /// migration in one transaction, under a lock held by that transaction
  /// (dialect::lock_migrations_in_transaction), and refuses, applying nothing, when one of
  /// them must run outside a transaction. down(), down_to(), redo() and rehash() refuse: they
  /// need a direct connection.
  bool single_transaction = false;
};

class EVSTORE_API migrator {
 public:
  /// @param app the application's migrations (scope "app"), possibly none.
  /// @throws migration_error when the connection's backend has no SQL dialect.
  migrator(connection& connection, std::vector<migration> app, migrator_options options);

  /// Every known and every recorded migration, in order, with its state.
  [[nodiscard]] migration_report status();

  /// Applies pending migrations in order, up to and including `to` when given.
  /// @throws migration_error on drift (before applying anything), when the lock cannot be
  ///         had in time (naming its holder), or when a migration fails (naming its file,
  ///         statement and the database's message; that migration is rolled back).
  std::vector<migration_step> up(const std::optional<migration_id>& to = std::nullopt);

  /// Reverts the last `steps` applied migrations, newest first.
  /// @throws migration_error, before changing anything, when one of them has no down script.
  std::vector<migration_step> down(int steps);

  /// Reverts every applied migration after `to` (which stays applied; version 0 of a scope
  /// means all of that scope and after).
  std::vector<migration_step> down_to(const migration_id& to);

  /// Reverts and re-applies the last applied migration.
  std::vector<migration_step> redo();

  /// Accepts the current file of an applied, modified migration: records its checksum and
  /// keeps the old one in rehashed_from.
  /// @throws migration_error when it is not applied or has no file.
  void rehash(const migration_id& id);

 private:
  struct known_migration {
    migration_id id;
    migration definition;
  };
  struct recorded_migration;

  [[nodiscard]] std::vector<recorded_migration> read_history();
  /// The applied migrations, newest first. @throws migration_error on drift.
  [[nodiscard]] std::vector<const known_migration*> applied_newest_first();
  std::vector<migration_step> revert(const std::vector<const known_migration*>& targets);
  /// Applies or reverts one migration; nullopt when another migrator did it meanwhile. Inside
  /// up_in_one_transaction, it only runs the statements and records them.
  std::optional<migration_step> run(const known_migration& target, bool up);
  /// up() with options_.single_transaction.
  std::vector<migration_step> up_in_one_transaction(const std::optional<migration_id>& to);
  /// The pending migrations up() applies, in order.
  std::vector<const known_migration*> pending(const migration_report& report,
                                              const std::optional<migration_id>& to) const;
  /// Throws migration_error when options_.single_transaction: `what` needs a direct connection.
  void require_direct_connection(std::string_view what) const;

  connection& connection_;
  const dialect& dialect_;
  bool in_one_transaction_ = false;  // up_in_one_transaction is running
  std::vector<known_migration> known_;
  migrator_options options_;
};

}  // namespace evstore
