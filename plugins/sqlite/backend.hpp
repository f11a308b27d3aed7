#pragma once

// The SQLite backend: embedded databases in a file or in memory, through soci_sqlite3.

#include <evstore/backend.hpp>
#include <evstore/dialect.hpp>
#include <evstore/native_statements.hpp>

// SOCI declares SQLite's C API inside this namespace (soci-sqlite3.h).
namespace sqlite_api {
struct sqlite3;
}

namespace evstore::sqlite {

class sqlite_dialect final : public dialect {
 public:
  [[nodiscard]] std::vector<std::string> split_statements(std::string_view script) const override;
  [[nodiscard]] std::string begin_write() const override;
  [[nodiscard]] std::string create_history_table() const override;
  [[nodiscard]] std::string now() const override;
  [[nodiscard]] std::string timestamp_text(std::string_view column) const override;
  [[nodiscard]] std::string table_exists(std::string_view table) const override;
  [[nodiscard]] std::string timestamp_from_micros(std::string_view param) const override;
  [[nodiscard]] std::string micros_from_timestamp(std::string_view column) const override;
  [[nodiscard]] std::string uuid_from_text(std::string_view param) const override;
  [[nodiscard]] std::string text_from_uuid(std::string_view column) const override;
  [[nodiscard]] std::string json_from_text(std::string_view param) const override;
  [[nodiscard]] std::string text_from_json(std::string_view column) const override;
  [[nodiscard]] std::string json_contains(std::string_view column,
                                          std::string_view param) const override;
  [[nodiscard]] std::string contains_ignoring_case(std::string_view column,
                                                   std::string_view param) const override;
  [[nodiscard]] std::string skip_locked_rows() const override;
  [[nodiscard]] bool lock_migrations(soci::session& session,
                                     std::chrono::milliseconds timeout) const override;
  void unlock_migrations(soci::session& session) const override;
  [[nodiscard]] std::optional<std::string> migration_lock_holder(
      soci::session& session) const override;
};

class sqlite_backend final : public backend, public native_statements {
 public:
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::vector<std::string> schemes() const override;
  [[nodiscard]] std::unique_ptr<soci::session> open(const database_url& url,
                                                    const connect_options& options) const override;
  [[nodiscard]] bool single_connection_database(const database_url& url) const override;
  [[nodiscard]] std::string server_version(soci::session& session) const override;
  [[nodiscard]] std::chrono::microseconds ping(soci::session& session,
                                               std::chrono::milliseconds deadline) const override;
  [[nodiscard]] const dialect* sql_dialect() const override;
  [[nodiscard]] std::vector<migration> migrations() const override;
  [[noreturn]] void rethrow_translated(std::exception_ptr failure,
                                       std::string_view context) const override;
  void backup(const database_url& url, const std::filesystem::path& output) const override;
  void restore(const database_url& url, const std::filesystem::path& input) const override;
  void interrupt(soci::session& session) const noexcept override;
  [[nodiscard]] bool copy_rows(soci::session& session, std::string_view table,
                               std::span<const bulk_column> columns,
                               std::span<const bulk_value> values) const override;
  [[nodiscard]] std::unique_ptr<native_statement> prepare(soci::session& session,
                                                          const std::string& sql,
                                                          std::size_t parameters,
                                                          bool keep) const override;

 private:
  sqlite_dialect dialect_;
};

/// SQLite's handle of `session`, a session this backend opened; nullptr once it is closed.
[[nodiscard]] sqlite_api::sqlite3* native_connection(soci::session& session);

/// Adds evstore's SQL functions (evstore_json_contains) to a new connection.
void register_functions(soci::session& session);

/// The name of a result code's primary code ("SQLITE_BUSY"), kept as an error's native code.
[[nodiscard]] std::string result_code_name(int code);

/// The one mapping of SQLite result codes to evstore errors. @param code a primary or
/// extended result code.
[[noreturn]] void throw_for_result_code(int code, const std::string& message);

}  // namespace evstore::sqlite
