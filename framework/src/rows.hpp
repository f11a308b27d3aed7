#pragma once

// Private to libevstore: reading event and media rows and running dynamically built
// statements. Rows are read into scalars, one row at a time: SOCI's vector reads of SQLite
// INTEGER columns are 32-bit (PITFALLS.md).

#include <chrono>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "evstore/connection.hpp"
#include "evstore/detail/bindings.hpp"
#include "evstore/dialect.hpp"
#include "evstore/model.hpp"

namespace evstore::detail {

/// The columns of an event, in the order event_row reads them.
std::string event_columns(const dialect& sql);
/// The columns of a media item, in the order media_row reads them.
std::string media_columns(const dialect& sql);

struct event_row {
  std::string id, title, description, status, location_name, metadata;
  long long start_time = 0, end_time = 0, created_at = 0, updated_at = 0, version = 0;
  double latitude = 0, longitude = 0;
  soci::indicator description_null{}, end_time_null{}, location_name_null{}, latitude_null{},
      longitude_null{};

  void exchange_into(soci::statement& statement);
  [[nodiscard]] event value() const;
};

struct media_row {
  std::string id, event_id, kind, uri, mime_type, checksum, status, metadata;
  long long size_bytes = 0, captured_at = 0, created_at = 0, updated_at = 0;
  soci::indicator mime_type_null{}, checksum_null{}, size_bytes_null{};

  void exchange_into(soci::statement& statement);
  [[nodiscard]] media value() const;
};

/// Runs `sql` with `values` bound and returns every row read through `Row`.
template <typename Row>
auto fetch_all(connection& conn, const std::string& sql, bindings& values)
    -> std::vector<decltype(std::declval<Row>().value())> {
  Row row;
  soci::statement statement(conn.session());
  row.exchange_into(statement);
  values.bind_to(statement);
  statement.alloc();
  statement.prepare(sql);
  statement.define_and_bind();
  std::vector<decltype(row.value())> rows;
  const auto start = std::chrono::steady_clock::now();
  if (statement.execute(true)) {
    do {
      rows.push_back(row.value());
    } while (statement.fetch());
  }
  conn.log_statement(sql, std::chrono::steady_clock::now() - start,
                     static_cast<long long>(rows.size()),
                     [&](bool with_values) { return values.describe(with_values); });
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
