#pragma once

/// @file
/// The error hierarchy. Every error evstore throws, from the core or from a plugin, derives
/// from evstore::error; a plugin lets no SOCI or other foreign exception escape.
/// Expected outcomes (no such row) are return values, not exceptions.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "evstore/export.hpp"

namespace evstore {

/// What kind of failure an error is; callers branch on the type, logs on this.
enum class error_category : std::uint8_t {
  config,      ///< bad configuration (a malformed URL, .env line or setting), or a use of the
               ///< pool its size cannot serve (pool_reentry)
  plugin,      ///< a backend plugin could not be found, loaded or trusted
  connection,  ///< no connection could be made, or it was lost
  transient,   ///< a retry may succeed: serialization failure, deadlock, busy database
  constraint,  ///< a constraint of the schema refused the data
  database,    ///< any other failure the database reported
  migration,   ///< a migration failed, drifted, or could not take the lock
  validation,  ///< a value broke a rule of the data model; nothing was sent to the database
  timeout,     ///< a deadline passed: no pooled connection in time, a statement too slow
  conflict,    ///< optimistic concurrency: the row changed since it was read
  /// COMMIT was sent but its answer lost: the changes may or may not be stored. Not retried
  /// (re-read, or retry idempotently); neither connection nor timeout, which may be retried.
  commit_unknown,
};

/// The readable name of a category ("config", "plugin", ...).
[[nodiscard]] EVSTORE_API const char* to_string(error_category category) noexcept;

/// The root of every evstore error. Messages never contain credentials.
class EVSTORE_API error : public std::runtime_error {
 public:
  /// @param native_code the SQLSTATE or SQLite result code name, when the database gave one.
  /// @param backend the backend that reported it ("postgresql", "sqlite"), or empty.
  error(error_category category, const std::string& message, std::string native_code = {},
        std::string backend = {});
  ~error() override;

  [[nodiscard]] error_category category() const noexcept { return category_; }
  /// The SQLSTATE (PostgreSQL) or result code name (SQLite, e.g. "SQLITE_BUSY"); may be empty.
  [[nodiscard]] const std::string& native_code() const noexcept { return native_code_; }
  [[nodiscard]] const std::string& backend() const noexcept { return backend_; }

 private:
  error_category category_;
  std::string native_code_;
  std::string backend_;
};

/// Bad configuration. The message names where the bad value came from (a `.env` file and
/// line, the environment, a flag) and the position in it, never the password.
class EVSTORE_API config_error : public error {
 public:
  explicit config_error(const std::string& message);
  ~config_error() override;
};

/// Why a plugin was refused. Each has its own remedy, listed in docs/plugins.md.
enum class plugin_failure : std::uint8_t {
  missing_file,        ///< the file does not exist
  not_a_plugin,        ///< not an ELF shared object, or no evstore entry point
  abi_mismatch,        ///< built for another plugin ABI version or ABI tag
  unresolved_symbol,   ///< the dynamic loader could not resolve a symbol
  load_failed,         ///< the dynamic loader refused it for another reason
  duplicate_scheme,    ///< a URL scheme already claimed by another plugin
  unsafe_permissions,  ///< the file or its folder is writable by group or others
  factory_failed,      ///< the plugin's factory reported an error
  no_backend,          ///< no loaded plugin serves a URL scheme
};

/// The readable name of a plugin failure ("missing_file", ...).
[[nodiscard]] EVSTORE_API const char* to_string(plugin_failure failure) noexcept;

/// A plugin was refused. The message names the file and what is wrong with it.
class EVSTORE_API plugin_error : public error {
 public:
  plugin_error(plugin_failure failure, std::filesystem::path file, const std::string& detail);
  ~plugin_error() override;

  [[nodiscard]] plugin_failure failure() const noexcept { return failure_; }
  /// The plugin file concerned; empty for no_backend.
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

 private:
  plugin_failure failure_;
  std::filesystem::path file_;
};

/// No connection could be established, or an established one was lost.
class EVSTORE_API connection_error : public error {
 public:
  connection_error(const std::string& message, std::string native_code, std::string backend);
  ~connection_error() override;
};

/// A failure that a retry of the whole unit of work may cure (serialization failure,
/// deadlock, lock not available, SQLite busy).
class EVSTORE_API transient_error : public error {
 public:
  transient_error(const std::string& message, std::string native_code, std::string backend);
  ~transient_error() override;
};

/// A constraint (unique, foreign key, check, not null) refused the data.
class EVSTORE_API constraint_violation : public error {
 public:
  constraint_violation(const std::string& message, std::string native_code, std::string backend);
  ~constraint_violation() override;
};

/// A migration could not be applied or reverted, a file changed after it was applied, or the
/// migration lock could not be had. The message names the migration and its file; when a
/// statement failed, the statement and the database's message.
class EVSTORE_API migration_error : public error {
 public:
  explicit migration_error(const std::string& message, std::string native_code = {},
                           std::string backend = {});
  ~migration_error() override;
};

/// A value broke a rule of the data model, caught before any SQL ran. The message names the
/// field and the rule.
class EVSTORE_API validation_error : public error {
 public:
  validation_error(std::string field, const std::string& message);
  ~validation_error() override;
  /// The field at fault, e.g. "title", "coordinates.latitude", "cursor".
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

/// A deadline passed: a statement ran past the server's statement_timeout (the connection
/// stays usable), or the database did not answer within the client-side call_timeout (the
/// query was cancelled and the connection discarded).
class EVSTORE_API timeout_error : public error {
 public:
  explicit timeout_error(const std::string& message);
  /// @param native_code the database's code for the cancellation (SQLSTATE 57014).
  timeout_error(const std::string& message, std::string native_code, std::string backend);
  ~timeout_error() override;
};

/// No pooled connection became free within the acquire timeout.
class EVSTORE_API pool_timeout : public timeout_error {
 public:
  explicit pool_timeout(const std::string& message);
  ~pool_timeout() override;
};

/// A thread asked a pool for a connection while it already holds every connection the pool
/// may have (at max_size): none could ever come, so it fails at once instead of waiting out
/// the acquire timeout. Typically the store's repositories called inside store.transaction on
/// a one-connection store; the cure is the transaction's repositories (tx.events()), or a
/// larger pool. A mistake in the code or the pool's size, not a passing state: not retried.
class EVSTORE_API pool_reentry : public config_error {
 public:
  explicit pool_reentry(const std::string& message);
  ~pool_reentry() override;
};

/// The row changed since it was read (its version moved on): re-read and retry the change.
class EVSTORE_API conflict : public error {
 public:
  explicit conflict(const std::string& message);
  ~conflict() override;
};

/// The outcome of COMMIT is unknown: the connection was lost, or the database did not answer
/// within the call timeout, after COMMIT was sent. The changes may or may not be stored.
/// store.transaction never retries it, nor does an enclosing one; neither should a caller,
/// blindly: re-read to find out, or retry with an idempotent write (create_idempotent).
class EVSTORE_API commit_unknown : public error {
 public:
  /// @param native_code, backend those of the failure that cut COMMIT short, if any.
  explicit commit_unknown(const std::string& message, std::string native_code = {},
                          std::string backend = {});
  ~commit_unknown() override;
};

}  // namespace evstore
