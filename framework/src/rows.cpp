#include "rows.hpp"

#include <memory>

#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include "statement_cache.hpp"

namespace evstore::detail {
namespace {

std::optional<std::string> optional_text(const native_row& row, int column) {
  return row.null(column) ? std::nullopt : std::optional<std::string>(row.text(column));
}

// A row as SOCI reads it: a scalar (and its indicator) per column, at stable addresses, seen
// through the same interface as a native statement's row.
class soci_row final : public native_row {
 public:
  explicit soci_row(std::span<const column_kind> kinds)
      : kinds_(kinds.begin(), kinds.end()),
        texts_(kinds.size()),
        integers_(kinds.size()),
        reals_(kinds.size()),
        indicators_(kinds.size()) {}

  void exchange_into(soci::statement& statement) {
    for (std::size_t i = 0; i < kinds_.size(); ++i) {
      switch (kinds_[i]) {
        case column_kind::text:
          statement.exchange(soci::into(texts_[i], indicators_[i]));
          break;
        case column_kind::integer:
          statement.exchange(soci::into(integers_[i], indicators_[i]));
          break;
        case column_kind::real:
          statement.exchange(soci::into(reals_[i], indicators_[i]));
          break;
      }
    }
  }

  [[nodiscard]] bool null(int column) const override {
    return indicators_[static_cast<std::size_t>(column)] == soci::i_null;
  }
  [[nodiscard]] std::string_view text(int column) const override {
    return texts_[static_cast<std::size_t>(column)];
  }
  [[nodiscard]] std::int64_t integer(int column) const override {
    return integers_[static_cast<std::size_t>(column)];
  }
  [[nodiscard]] double real(int column) const override {
    return reals_[static_cast<std::size_t>(column)];
  }

 private:
  std::vector<column_kind> kinds_;
  std::vector<std::string> texts_;
  std::vector<long long> integers_;
  std::vector<double> reals_;
  std::vector<soci::indicator> indicators_;
};

// Runs a prepared (or, without `keep`, one-off) statement through SOCI; see run_statement.
long long run_through_soci(connection& conn, prepared_statement& prepared, const std::string& sql,
                           const bindings& values, bool keep, std::span<const column_kind> kinds,
                           const std::function<void(const native_row&)>& row) {
  if (prepared.ready) {
    prepared.values.assign(values);
  } else {
    auto& statement = prepared.statement.emplace(conn.session());
    auto columns = std::make_shared<soci_row>(kinds);
    columns->exchange_into(statement);
    prepared.row = columns;
    prepared.values = values;
    prepared.values.bind_to(statement);
    statement.alloc();
    statement.prepare(sql,
                      keep ? soci::details::st_repeatable_query : soci::details::st_one_time_query);
    statement.define_and_bind();
    prepared.ready = true;
  }
  auto& statement = *prepared.statement;
  if (kinds.empty()) {
    statement.execute(true);
    return statement.get_affected_rows();
  }
  const auto& columns = *static_cast<const soci_row*>(prepared.row.get());
  long long read = 0;
  if (statement.execute(true)) {
    do {
      ++read;
      row(columns);
    } while (statement.fetch());
  }
  return read;
}

}  // namespace

std::string event_columns(const dialect& sql) {
  return fmt::format(
      "{}, title, description, status, {}, {}, location_name, latitude, longitude, {}, {}, {}, "
      "version",
      sql.text_from_uuid("id"), sql.micros_from_timestamp("start_time"),
      sql.micros_from_timestamp("end_time"), sql.text_from_json("metadata"),
      sql.micros_from_timestamp("created_at"), sql.micros_from_timestamp("updated_at"));
}

std::string media_columns(const dialect& sql) {
  return fmt::format("{}, {}, kind, uri, mime_type, size_bytes, checksum, {}, status, {}, {}, {}",
                     sql.text_from_uuid("id"), sql.text_from_uuid("event_id"),
                     sql.micros_from_timestamp("captured_at"), sql.text_from_json("metadata"),
                     sql.micros_from_timestamp("created_at"),
                     sql.micros_from_timestamp("updated_at"));
}

event event_row::decode(const native_row& row) {
  event e;
  e.id = uuid::parse(row.text(0));
  e.title = row.text(1);
  e.description = optional_text(row, 2);
  e.status = parse_event_status(row.text(3));
  e.start_time = from_micros(row.integer(4));
  if (!row.null(5)) {
    e.end_time = from_micros(row.integer(5));
  }
  e.location_name = optional_text(row, 6);
  if (!row.null(7) && !row.null(8)) {
    e.coordinates = geo_point{row.real(7), row.real(8)};
  }
  e.metadata = nlohmann::json::parse(row.text(9));
  e.created_at = from_micros(row.integer(10));
  e.updated_at = from_micros(row.integer(11));
  e.version = row.integer(12);
  return e;
}

media media_row::decode(const native_row& row) {
  media m;
  m.id = uuid::parse(row.text(0));
  m.event_id = uuid::parse(row.text(1), "event_id");
  m.kind = parse_media_kind(row.text(2));
  m.uri = row.text(3);
  m.mime_type = optional_text(row, 4);
  if (!row.null(5)) {
    m.size_bytes = row.integer(5);
  }
  m.checksum = optional_text(row, 6);
  m.captured_at = from_micros(row.integer(7));
  m.status = parse_media_status(row.text(8));
  m.metadata = nlohmann::json::parse(row.text(9));
  m.created_at = from_micros(row.integer(10));
  m.updated_at = from_micros(row.integer(11));
  return m;
}

std::string statement_key(const std::string& sql, const bindings& values, char row_tag) {
  std::string key;
  key.reserve(sql.size() + values.size() + 2);
  key += sql;
  key += '\0';
  key += row_tag;
  values.append_signature(key);
  return key;
}

long long run_statement(connection& conn, const std::string& sql, bindings& values, char row_tag,
                        std::span<const column_kind> kinds,
                        const std::function<void(const native_row&)>& row) {
  auto& cache = conn.statements();
  const auto key = statement_key(sql, values, row_tag);
  prepared_statement* prepared = cache.find_or_add(key);
  std::optional<prepared_statement> one_off;
  if (prepared == nullptr) {
    prepared = &one_off.emplace();
  }
  const bool keep = !one_off;
  try {
    const auto start = std::chrono::steady_clock::now();
    long long rows = 0;
    if (const auto* native = cache.native()) {
      if (!prepared->ready) {
        prepared->native = native->prepare(conn.session(), sql, values.size(), keep);
        prepared->ready = true;
      }
      const auto changed =
          prepared->native->execute(values.native_values(), [&](const native_row& columns) {
            ++rows;
            row(columns);
          });
      if (kinds.empty()) {
        rows = changed;
      }
    } else {
      rows = run_through_soci(conn, *prepared, sql, values, keep, kinds, row);
    }
    conn.log_statement(sql, std::chrono::steady_clock::now() - start, rows,
                       [&](bool with_values) { return values.describe(with_values); });
    return rows;
  } catch (...) {
    if (keep) {
      cache.forget(key);
    }
    throw;
  }
}

long long execute_counting(connection& conn, const std::string& sql, bindings& values) {
  return run_statement(conn, sql, values, 'n', {}, [](const native_row&) {});
}

long long query_integer(connection& conn, const std::string& sql, bindings& values) {
  const auto rows = fetch_all<integer_row>(conn, sql, values);
  return rows.empty() ? 0 : rows.front();
}

}  // namespace evstore::detail
