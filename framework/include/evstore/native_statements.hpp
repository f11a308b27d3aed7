#pragma once

/// @file
/// Optional for a plugin: running the core's statements on the native connection handle.
///
/// SOCI 4.0.3 costs 1–8 µs per statement and about 0.3 µs per fetched row on top of libpq,
/// and 15–30 % of a read against SQLite's C API (docs/dependencies.md, docs/performance.md).
/// A backend class that also derives from evstore::native_statements gets the repositories'
/// statements through it; one that does not is driven through SOCI, as before. This is an
/// addition to plugin ABI 1 (evstore 1.1), not a change to it: the core finds the interface
/// with a dynamic_cast on the backend, so a plugin built against evstore 1.0 keeps loading and
/// working, and `evstore::backend` and `evstore::dialect` are unchanged.
///
/// The contract (docs/plugins.md, "Native statements"):
/// - `sql` is the core's SQL for the backend's dialect, with parameters written `:p0`, `:p1`,
///   … `:p<n-1>`, in that order, each used once or more, and never inside a quoted literal.
/// - Parameters and columns are text, 64-bit integers or doubles, or NULL; a column is read
///   as the type the core asks for (a text column holding digits is read as an integer, an
///   integer column as text gives its digits). The columns the backend's dialect gives for
///   micros_from_timestamp and text_from_uuid read as integer microseconds since the epoch
///   and as lower-case text: the reader may do that conversion (evstore 1.1).
/// - `execute` runs in whatever transaction the session is in, and calls `row` for every
///   result row, in order, before it returns. It reads every row even when `row` throws, or
///   leaves the statement reset, so that the session is clean for the next statement.
/// - Failures are thrown as evstore::error types, mapped as rethrow_translated maps SOCI's
///   (a lost connection is a connection_error); their messages carry no credentials.
/// - A statement lives on its session: the core destroys it before the session, and after
///   backend::close_now when the connection is being discarded; its destructor must then not
///   wait on the server. It may release server resources (DEALLOCATE) otherwise, ignoring
///   failures.
/// - One thread at a time per session, like the session.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "evstore/export.hpp"

namespace soci {
class session;
}

namespace evstore {

/// One parameter value of a native statement.
struct native_value {
  enum class kind : std::uint8_t { text, integer, real };
  kind type = kind::text;
  bool null = false;
  /// For text: the characters, followed by a NUL (text.data()[text.size()] == '\0').
  std::string_view text{};
  std::int64_t integer = 0;
  double real = 0;
};

/// The current result row of a native statement, valid during the `row` callback only.
class EVSTORE_API native_row {
 public:
  /// Whether column `column` (from 0) is NULL.
  [[nodiscard]] virtual bool null(int column) const = 0;
  /// The column as text; valid until the callback returns.
  [[nodiscard]] virtual std::string_view text(int column) const = 0;
  /// The column as a 64-bit integer. @throws evstore::error when it is not one.
  [[nodiscard]] virtual std::int64_t integer(int column) const = 0;
  /// The column as a double. @throws evstore::error when it is not one.
  [[nodiscard]] virtual double real(int column) const = 0;

 protected:
  native_row() = default;
  native_row(const native_row&) = default;
  native_row& operator=(const native_row&) = default;
  ~native_row() = default;
};

/// A statement prepared on one session, executed any number of times.
class EVSTORE_API native_statement {
 public:
  native_statement() = default;
  native_statement(const native_statement&) = delete;
  native_statement& operator=(const native_statement&) = delete;
  virtual ~native_statement();

  /// Executes the statement with `values` (one per placeholder, `:p0` first) and calls `row`
  /// for each result row.
  /// @returns for an INSERT, UPDATE or DELETE, how many rows it changed; for a query, how
  ///          many rows it returned.
  /// @throws the evstore::error the failure maps to, or what `row` throws.
  virtual std::int64_t execute(std::span<const native_value> values,
                               const std::function<void(const native_row&)>& row) = 0;
};

/// What a backend class derives from, besides evstore::backend, to run statements natively.
class EVSTORE_API native_statements {
 public:
  native_statements() = default;
  native_statements(const native_statements&) = delete;
  native_statements& operator=(const native_statements&) = delete;
  virtual ~native_statements();

  /// Prepares `sql` (with `parameters` placeholders) on `session`, a session this backend
  /// opened. With `keep`, it is executed many times and may hold server resources (a named
  /// prepared statement); without, it runs once and must hold none (PgBouncer in transaction
  /// mode: connect_options::statement_cache_size 0).
  /// @throws the evstore::error the failure maps to.
  [[nodiscard]] virtual std::unique_ptr<native_statement> prepare(soci::session& session,
                                                                  const std::string& sql,
                                                                  std::size_t parameters,
                                                                  bool keep) const = 0;
};

}  // namespace evstore
