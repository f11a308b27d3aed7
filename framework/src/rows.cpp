#include "rows.hpp"

#include <spdlog/fmt/fmt.h>

namespace evstore::detail {
namespace {

std::optional<std::string> optional_text(const std::string& value, soci::indicator indicator) {
  return indicator == soci::i_null ? std::nullopt : std::optional(value);
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

void event_row::exchange_into(soci::statement& statement) {
  statement.exchange(soci::into(id));
  statement.exchange(soci::into(title));
  statement.exchange(soci::into(description, description_null));
  statement.exchange(soci::into(status));
  statement.exchange(soci::into(start_time));
  statement.exchange(soci::into(end_time, end_time_null));
  statement.exchange(soci::into(location_name, location_name_null));
  statement.exchange(soci::into(latitude, latitude_null));
  statement.exchange(soci::into(longitude, longitude_null));
  statement.exchange(soci::into(metadata));
  statement.exchange(soci::into(created_at));
  statement.exchange(soci::into(updated_at));
  statement.exchange(soci::into(version));
}

event event_row::value() const {
  event e;
  e.id = uuid::parse(id);
  e.title = title;
  e.description = optional_text(description, description_null);
  e.status = parse_event_status(status);
  e.start_time = from_micros(start_time);
  if (end_time_null != soci::i_null) {
    e.end_time = from_micros(end_time);
  }
  e.location_name = optional_text(location_name, location_name_null);
  if (latitude_null != soci::i_null && longitude_null != soci::i_null) {
    e.coordinates = geo_point{latitude, longitude};
  }
  e.metadata = nlohmann::json::parse(metadata);
  e.created_at = from_micros(created_at);
  e.updated_at = from_micros(updated_at);
  e.version = version;
  return e;
}

void media_row::exchange_into(soci::statement& statement) {
  statement.exchange(soci::into(id));
  statement.exchange(soci::into(event_id));
  statement.exchange(soci::into(kind));
  statement.exchange(soci::into(uri));
  statement.exchange(soci::into(mime_type, mime_type_null));
  statement.exchange(soci::into(size_bytes, size_bytes_null));
  statement.exchange(soci::into(checksum, checksum_null));
  statement.exchange(soci::into(captured_at));
  statement.exchange(soci::into(status));
  statement.exchange(soci::into(metadata));
  statement.exchange(soci::into(created_at));
  statement.exchange(soci::into(updated_at));
}

media media_row::value() const {
  media m;
  m.id = uuid::parse(id);
  m.event_id = uuid::parse(event_id, "event_id");
  m.kind = parse_media_kind(kind);
  m.uri = uri;
  m.mime_type = optional_text(mime_type, mime_type_null);
  if (size_bytes_null != soci::i_null) {
    m.size_bytes = size_bytes;
  }
  m.checksum = optional_text(checksum, checksum_null);
  m.captured_at = from_micros(captured_at);
  m.status = parse_media_status(status);
  m.metadata = nlohmann::json::parse(metadata);
  m.created_at = from_micros(created_at);
  m.updated_at = from_micros(updated_at);
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

long long execute_counting(connection& conn, const std::string& sql, bindings& values) {
  long long changed = 0;
  run_statement<no_row>(conn, sql, values, [&](soci::statement& statement, no_row&) {
    statement.execute(true);
    changed = statement.get_affected_rows();
    return changed;
  });
  return changed;
}

long long query_integer(connection& conn, const std::string& sql, bindings& values) {
  long long result = 0;
  run_statement<integer_row>(conn, sql, values, [&](soci::statement& statement, integer_row& row) {
    statement.execute(true);
    result = row.result;
    // Read to the end, so that the statement is done (SQLite: its read snapshot released).
    while (statement.fetch()) {
    }
    return 1LL;
  });
  return result;
}

}  // namespace evstore::detail
