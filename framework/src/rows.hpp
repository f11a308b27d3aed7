#pragma once

// Private to libevstore: reading event and media rows and running dynamically built
// statements, natively when the backend has native statements, else through SOCI. Through
// SOCI, rows are read into scalars, one row at a time: SOCI 4.0.3's vector reads of SQLite
// INTEGER columns are 32-bit, so 64-bit values such as microsecond timestamps would come back
// wrong, without an error.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "evstore/connection.hpp"
#include "evstore/detail/bindings.hpp"
#include "evstore/dialect.hpp"
#include "evstore/model.hpp"
#include "evstore/native_statements.hpp"

namespace evstore::detail {

/// How a column is read.
enum class column_kind : std::uint8_t { text, integer, real };

/// The columns of an event, in the order event_row reads them.
std::string event_columns(const dialect& sql);
/// The columns of a media item, in the order media_row reads them.
std::string media_columns(const dialect& sql);

/// A row of event_columns.
struct event_row {
  static constexpr char tag = 'e';
  static constexpr std::array kinds = {
      column_kind::text,    column_kind::text,    column_kind::text,    column_kind::text,
      column_kind::integer, column_kind::integer, column_kind::text,    column_kind::real,
      column_kind::real,    column_kind::text,    column_kind::integer, column_kind::integer,
      column_kind::integer};
  [[nodiscard]] static event decode(const native_row& row);
};

/// A row of media_columns.
struct media_row {
  static constexpr char tag = 'm';
  static constexpr std::array kinds = {
      column_kind::text, column_kind::text,    column_kind::text,    column_kind::text,
      column_kind::text, column_kind::integer, column_kind::text,    column_kind::integer,
      column_kind::text, column_kind::text,    column_kind::integer, column_kind::integer};
  [[nodiscard]] static media decode(const native_row& row);
};

/// A row of one integer.
struct integer_row {
  static constexpr char tag = 'i';
  static constexpr std::array kinds = {column_kind::integer};
  [[nodiscard]] static long long decode(const native_row& row) { return row.integer(0); }
};

/// The cache key of `sql` run with parameters shaped as `values` into a `row_tag` row.
[[nodiscard]] std::string statement_key(const std::string& sql, const bindings& values,
                                        char row_tag);

/// Runs `sql` with `values` bound through `conn`'s statement cache: prepared on first use,
/// then re-executed with new values. Calls `row` for every result row, its columns read as
/// `kinds` says, reading every one (a statement left mid-result would hold SQLite's read
/// snapshot open). A statement that fails is not kept. With the cache off, the statement is
/// run once, holding nothing on the server.
/// @param row_tag names the shape of `kinds` in the cache key.
/// @returns how many rows it read, for a statement that returns rows; else how many it changed.
long long run_statement(connection& conn, const std::string& sql, bindings& values, char row_tag,
                        std::span<const column_kind> kinds,
                        const std::function<void(const native_row&)>& row);

/// Runs `sql` with `values` bound and returns every row read through `Row`.
template <typename Row>
auto fetch_all(connection& conn, const std::string& sql, bindings& values)
    -> std::vector<decltype(Row::decode(std::declval<const native_row&>()))> {
  std::vector<decltype(Row::decode(std::declval<const native_row&>()))> rows;
  run_statement(conn, sql, values, Row::tag, Row::kinds,
                [&](const native_row& row) { rows.push_back(Row::decode(row)); });
  return rows;
}

/// Runs a statement that returns no rows; returns the number of rows it changed.
long long execute_counting(connection& conn, const std::string& sql, bindings& values);

/// Runs a query returning one integer.
long long query_integer(connection& conn, const std::string& sql, bindings& values);

/// Microseconds since the epoch, and back.
[[nodiscard]] inline long long micros(timestamp t) {
  return t.time_since_epoch().count();
}
[[nodiscard]] inline timestamp from_micros(long long us) {
  return timestamp(std::chrono::microseconds(us));
}

}  // namespace evstore::detail
