#include "table_checksum.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <soci/soci.h>
#include <nlohmann/json.hpp>

#include <evstore/migration.hpp>

namespace evstore::test {
namespace {

constexpr std::string_view null_text = "\\N";

std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// One row as text, fields separated by tabs, built column by column.
class row_text {
 public:
  void text(const std::string& value, soci::indicator indicator = soci::i_ok) {
    add(indicator == soci::i_null ? std::string(null_text) : escaped(value));
  }
  void integer(long long value, soci::indicator indicator = soci::i_ok) {
    add(indicator == soci::i_null ? std::string(null_text) : std::to_string(value));
  }
  void real(double value, soci::indicator indicator = soci::i_ok) {
    // fmt's "{}" is the shortest text that reads back to the same double.
    add(indicator == soci::i_null ? std::string(null_text) : fmt::format("{}", value));
  }
  void json(const std::string& value) { add(escaped(nlohmann::json::parse(value).dump())); }
  [[nodiscard]] std::string take() { return std::move(text_) + '\n'; }

 private:
  void add(const std::string& field) {
    if (!first_) {
      text_ += '\t';
    }
    first_ = false;
    text_ += field;
  }
  std::string text_;
  bool first_ = true;
};

const dialect& sql_of(connection& conn) {
  const auto* sql = conn.backend().sql_dialect();
  if (sql == nullptr) {
    throw std::logic_error("digest_tables needs a SQL backend");
  }
  return *sql;
}

// Every row of `statement` as (id, text), ordered by id in C++, so that no collation matters.
std::vector<std::pair<std::string, std::string>> sorted(
    std::vector<std::pair<std::string, std::string>> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::pair<std::string, std::string>> event_rows(connection& conn, bool maintained) {
  const auto& sql = sql_of(conn);
  std::string id, title, description, status, location_name, metadata;
  long long start_time = 0, end_time = 0, created_at = 0, updated_at = 0, version = 0;
  double latitude = 0, longitude = 0;
  soci::indicator description_null{}, end_time_null{}, location_null{}, latitude_null{},
      longitude_null{};
  // Read row by row into scalars: SOCI's vector reads of SQLite integers are 32-bit.
  soci::statement query =
      (conn.session().prepare << fmt::format(
           "SELECT {}, title, description, status, {}, {}, location_name, latitude, longitude, {}, "
           "{}, {}, version FROM events",
           sql.text_from_uuid("id"), sql.micros_from_timestamp("start_time"),
           sql.micros_from_timestamp("end_time"), sql.text_from_json("metadata"),
           sql.micros_from_timestamp("created_at"), sql.micros_from_timestamp("updated_at")),
       soci::into(id), soci::into(title), soci::into(description, description_null),
       soci::into(status), soci::into(start_time), soci::into(end_time, end_time_null),
       soci::into(location_name, location_null), soci::into(latitude, latitude_null),
       soci::into(longitude, longitude_null), soci::into(metadata), soci::into(created_at),
       soci::into(updated_at), soci::into(version));
  query.execute();
  std::vector<std::pair<std::string, std::string>> rows;
  while (query.fetch()) {
    row_text row;
    row.text(id);
    row.text(title);
    row.text(description, description_null);
    row.text(status);
    row.integer(start_time);
    row.integer(end_time, end_time_null);
    row.text(location_name, location_null);
    row.real(latitude, latitude_null);
    row.real(longitude, longitude_null);
    row.json(metadata);
    if (maintained) {
      row.integer(created_at);
      row.integer(updated_at);
    }
    row.integer(version);
    rows.emplace_back(id, row.take());
  }
  return sorted(std::move(rows));
}

std::vector<std::pair<std::string, std::string>> media_rows(connection& conn, bool maintained) {
  const auto& sql = sql_of(conn);
  std::string id, event_id, kind, uri, mime_type, checksum, status, metadata;
  long long size_bytes = 0, captured_at = 0, created_at = 0, updated_at = 0;
  soci::indicator mime_null{}, size_null{}, checksum_null{};
  soci::statement query =
      (conn.session().prepare << fmt::format(
           "SELECT {}, {}, kind, uri, mime_type, size_bytes, checksum, {}, status, {}, {}, {} "
           "FROM media",
           sql.text_from_uuid("id"), sql.text_from_uuid("event_id"),
           sql.micros_from_timestamp("captured_at"), sql.text_from_json("metadata"),
           sql.micros_from_timestamp("created_at"), sql.micros_from_timestamp("updated_at")),
       soci::into(id), soci::into(event_id), soci::into(kind), soci::into(uri),
       soci::into(mime_type, mime_null), soci::into(size_bytes, size_null),
       soci::into(checksum, checksum_null), soci::into(captured_at), soci::into(status),
       soci::into(metadata), soci::into(created_at), soci::into(updated_at));
  query.execute();
  std::vector<std::pair<std::string, std::string>> rows;
  while (query.fetch()) {
    row_text row;
    row.text(id);
    row.text(event_id);
    row.text(kind);
    row.text(uri);
    row.text(mime_type, mime_null);
    row.integer(size_bytes, size_null);
    row.text(checksum, checksum_null);
    row.integer(captured_at);
    row.text(status);
    row.json(metadata);
    if (maintained) {
      row.integer(created_at);
      row.integer(updated_at);
    }
    rows.emplace_back(id, row.take());
  }
  return sorted(std::move(rows));
}

long long count(connection& conn, const std::string& sql) {
  long long value = 0;
  conn.session() << sql, soci::into(value);
  return value;
}

}  // namespace

table_digest digest_tables(connection& conn, maintained_columns maintained) {
  const bool with_maintained = maintained == maintained_columns::included;
  std::string text = "events\n";
  const auto events = event_rows(conn, with_maintained);
  for (const auto& [id, row] : events) {
    text += row;
  }
  text += "media\n";
  const auto media = media_rows(conn, with_maintained);
  for (const auto& [id, row] : media) {
    text += row;
  }
  return {sha256_hex(text), static_cast<long long>(events.size()),
          static_cast<long long>(media.size())};
}

consistency_report check_consistency(connection& conn) {
  consistency_report report;
  report.orphan_media =
      count(conn, "SELECT COUNT(*) FROM media WHERE event_id NOT IN (SELECT id FROM events)");
  report.writer_events = count(conn, "SELECT COUNT(*) FROM events WHERE title LIKE 'writer %'");
  report.writer_media = count(conn,
                              "SELECT COUNT(*) FROM media WHERE event_id IN "
                              "(SELECT id FROM events WHERE title LIKE 'writer %')");
  report.incomplete_writers = count(conn,
                                    "SELECT COUNT(*) FROM events e WHERE e.title LIKE 'writer %' "
                                    "AND (SELECT COUNT(*) FROM media m WHERE m.event_id = e.id) "
                                    "<> 3");
  return report;
}

}  // namespace evstore::test
