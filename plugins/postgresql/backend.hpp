#pragma once

// The PostgreSQL backend, through soci_postgresql and libpq.

#include <libpq-fe.h>

#include <evstore/backend.hpp>
#include <evstore/dialect.hpp>
#include <evstore/native_statements.hpp>

namespace evstore::postgresql {

class postgresql_dialect final : public dialect {
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
  [[nodiscard]] bool lock_migrations_in_transaction(
      soci::session& session, std::chrono::milliseconds timeout) const override;
  [[nodiscard]] std::string write_position() const override;
  [[nodiscard]] std::string replay_position() const override;
};

class postgresql_backend final : public backend, public native_statements {
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
  [[nodiscard]] statement_statistics top_statements(soci::session& session,
                                                    std::size_t limit) const override;
  void interrupt(soci::session& session) const noexcept override;
  void close_now(soci::session& session) const noexcept override;
  [[nodiscard]] bool copy_rows(soci::session& session, std::string_view table,
                               std::span<const bulk_column> columns,
                               std::span<const bulk_value> values) const override;
  [[nodiscard]] std::unique_ptr<native_statement> prepare(soci::session& session,
                                                          const std::string& sql,
                                                          std::size_t parameters,
                                                          bool keep) const override;

 private:
  postgresql_dialect dialect_;
};

/// The hosts of a URL as libpq takes them, in its `host` and `port` keywords or in PGHOST and
/// PGPORT: comma-separated lists in the URL's order.
struct libpq_host_lists {
  /// `host` then each fallback host; IPv6 addresses without brackets, socket folders as they
  /// are; empty when the URL names no host.
  std::string hosts;
  /// One entry per host, an empty entry for a host without a port (libpq then uses 5432);
  /// empty when no host has a port, so that libpq's default applies to all.
  std::string ports;
};

/// The host and port lists for `url`.
[[nodiscard]] libpq_host_lists host_lists(const database_url& url);

/// The connection string for `url` that SOCI hands to libpq: a libpq URI with no host part
/// and every setting a percent-encoded query parameter (`postgresql://?host=…&password=…`).
/// SOCI 4.0.3 re-splits a keyword=value string on white space even inside quotes, so a value
/// with spaces (a password, an application name) would reach libpq changed, and it appends
/// `=` to a URI without any parameter (`postgresql://…/postgres` would connect to a database
/// named `postgres=`); this form has neither problem, since it always has parameters and
/// holds no white space or quote. The URL's parameters win over `options`. All the URL's
/// hosts go in `host` and `port` (host_lists), for libpq to try in order.
[[nodiscard]] std::string conninfo(const database_url& url, const connect_options& options);

/// What statements on a connection must apply themselves, because a transaction-mode pooler
/// keeps no session setting (connect_options::pooler): set by open() on the PGconn (libpq
/// instance data, freed with the PGconn).
struct connection_settings {
  pooler_mode pooler = pooler_mode::none;
  /// statement_timeout in milliseconds, as text, to apply in each transaction and to each
  /// statement outside one; empty when there is none to apply (no pooler: it is a session
  /// setting, sent at connect).
  std::string local_statement_timeout;
};

/// The settings open() attached to `conn`; the defaults for any other connection.
[[nodiscard]] const connection_settings& settings_of(const PGconn* conn);

/// The hint appended to an error that a transaction-mode pooler causes when evstore is not
/// told about it (a refused startup parameter, a prepared statement on another server
/// connection).
constexpr std::string_view pooler_hint =
    " (behind a transaction-mode pooler such as PgBouncer? set pooler=transaction in the URL "
    "or EVSTORE_POOLER=transaction)";

/// libpq's handle of `session`, a session this backend opened; nullptr once it is closed.
[[nodiscard]] PGconn* native_connection(soci::session& session);

/// Rethrows `failure` as the evstore::error it maps to (what backend::rethrow_translated does).
[[noreturn]] void rethrow_translated_error(std::exception_ptr failure, std::string_view context);

/// libpq's message (nullptr: none) without its trailing newlines and spaces.
[[nodiscard]] std::string trimmed(const char* message);

/// The one mapping of SQLSTATE codes to evstore errors.
[[noreturn]] void throw_for_sqlstate(const std::string& sqlstate, const std::string& message);

}  // namespace evstore::postgresql
