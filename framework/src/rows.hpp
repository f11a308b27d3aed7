#pragma once

// Private to libevstore: reading event and media rows and running dynamically built
// statements. Rows are read into scalars, one row at a time: SOCI's vector reads of SQLite
// INTEGER columns are 32-bit (PITFALLS.md).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "evstore/connection.hpp"
#include "evstore/detail/bindings.hpp"
#include "evstore/dialect.hpp"
#include "evstore/model.hpp"
#include "statement_cache.hpp"

namespace evstore::detail {

/// The columns of an event, in the order event_row reads them.
std::string event_columns(const dialect& sql);
/// The columns of a media item, in the order media_row reads them.
std::string media_columns(const dialect& sql);

struct event_row {
  static constexpr char tag = 'e';
  std::string id, title, description, status, location_name, metadata;
  long long start_time = 0, end_time = 0, created_at = 0, updated_at = 0, version = 0;
  double latitude = 0, longitude = 0;
  soci::indicator description_null{}, end_time_null{}, location_name_null{}, latitude_null{},
      longitude_null{};

  void exchange_into(soci::statement& statement);
  [[nodiscard]] event value() const;
};

struct media_row {
  static constexpr char tag = 'm';
  std::string id, event_id, kind, uri, mime_type, checksum, status, metadata;
  long long size_bytes = 0, captured_at = 0, created_at = 0, updated_at = 0;
  soci::indicator mime_type_null{}, checksum_null{}, size_bytes_null{};

  void exchange_into(soci::statement& statement);
  [[nodiscard]] media value() const;
};

/// A statement that reads no row.
struct no_row {
  static constexpr char tag = 'n';
  void exchange_into(soci::statement& /*statement*/) {}
};

/// A statement that reads one integer.
struct integer_row {
  static constexpr char tag = 'i';
  long long result = 0;
  void exchange_into(soci::statement& statement) { statement.exchange(soci::into(result)); }
};

/// The cache key of `sql` run with parameters shaped as `values` into a `row_tag` row.
[[nodiscard]] std::string statement_key(const std::string& sql, const bindings& values,
                                        char row_tag);

/// Runs `sql` with `values` bound through `conn`'s statement cache: prepared on first use,
/// then re-executed with new values. `consume(statement, row)` executes the statement, reads
/// its rows (every one: a statement left mid-result would hold SQLite's read snapshot open)
/// and returns how many it read or changed, for the query log. A statement that fails is
/// not kept. With the cache off, the statement is sent whole, once (no server-side prepare).
template <typename Row, typename Consume>
void run_statement(connection& conn, const std::string& sql, bindings& values, Consume&& consume) {
  auto& cache = conn.statements();
  const auto key = statement_key(sql, values, Row::tag);
  prepared_statement* prepared = cache.find_or_add(key, conn.session());
  std::optional<prepared_statement> one_off;
  if (prepared == nullptr) {
    prepared = &one_off.emplace(conn.session());
  }
  try {
    if (prepared->ready) {
      prepared->values.assign(values);
    } else {
      auto row = std::make_shared<Row>();
      row->exchange_into(prepared->statement);
      prepared->row = row;
      prepared->values = values;
      prepared->values.bind_to(prepared->statement);
      prepared->statement.alloc();
      prepared->statement.prepare(
          sql, one_off ? soci::details::st_one_time_query : soci::details::st_repeatable_query);
      prepared->statement.define_and_bind();
      prepared->ready = true;
    }
    const auto start = std::chrono::steady_clock::now();
    const long long rows = consume(prepared->statement, *static_cast<Row*>(prepared->row.get()));
    conn.log_statement(sql, std::chrono::steady_clock::now() - start, rows,
                       [&](bool with_values) { return values.describe(with_values); });
  } catch (...) {
    if (!one_off) {
      cache.forget(key);
    }
    throw;
  }
}

/// Runs `sql` with `values` bound and returns every row read through `Row`.
template <typename Row>
auto fetch_all(connection& conn, const std::string& sql, bindings& values)
    -> std::vector<decltype(std::declval<Row>().value())> {
  std::vector<decltype(std::declval<Row>().value())> rows;
  run_statement<Row>(conn, sql, values, [&](soci::statement& statement, Row& row) {
    if (statement.execute(true)) {
      do {
        rows.push_back(row.value());
      } while (statement.fetch());
    }
    return static_cast<long long>(rows.size());
  });
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
