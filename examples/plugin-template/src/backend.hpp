#pragma once

// templatedb: an example evstore backend plugin, the starting point for your own. It serves
// SQLite database files under its own URL scheme (templatedb:///NAME?folder=/absolute/folder)
// through SOCI's sqlite3 backend, with its own dialect and migrations; the core's generic SOCI
// repositories do the rest. Replace SOCI::sqlite3 and the SQL with your database's.
//
// The same file set as evstore's own plugins: backend.hpp (this), plugin.cpp (entry point and
// identity), session.cpp (connections), dialect.cpp (the SQL that differs), errors.cpp (the
// one mapping of native error codes).

#include <string>

#include <evstore/backend.hpp>
#include <evstore/dialect.hpp>

namespace templatedb {

class templatedb_dialect final : public evstore::dialect {
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

class templatedb_backend final : public evstore::backend {
 public:
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::vector<std::string> schemes() const override;
  [[nodiscard]] std::unique_ptr<soci::session> open(
      const evstore::database_url& url, const evstore::connect_options& options) const override;
  [[nodiscard]] bool single_connection_database(const evstore::database_url& url) const override;
  [[nodiscard]] std::string server_version(soci::session& session) const override;
  [[nodiscard]] std::chrono::microseconds ping(soci::session& session,
                                               std::chrono::milliseconds deadline) const override;
  [[nodiscard]] const evstore::dialect* sql_dialect() const override;
  [[nodiscard]] std::vector<evstore::migration> migrations() const override;
  [[noreturn]] void rethrow_translated(std::exception_ptr failure,
                                       std::string_view context) const override;
  void backup(const evstore::database_url& url, const std::filesystem::path& output) const override;
  void restore(const evstore::database_url& url, const std::filesystem::path& input) const override;

 private:
  templatedb_dialect dialect_;
};

// The backend's name, in messages and native codes.
inline constexpr std::string_view backend_name = "templatedb";

// Throws the evstore error that SQLite result code `code` maps to.
[[noreturn]] void throw_for_result_code(int code, const std::string& message);

}  // namespace templatedb
