#include "table_checksum.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <soci/soci.h>
#include <nlohmann/json.hpp>

#include <evstore/migration.hpp>
#include <evstore/native_statements.hpp>

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

// What a column holds, which says how it is selected, read and written into a row's text.
enum class field : std::uint8_t { text, uuid, integer, real, timestamp, maintained, json };

struct column {
  std::string_view name;
  field kind;
};

constexpr std::array event_columns = {column{"id", field::uuid},
                                      column{"title", field::text},
                                      column{"description", field::text},
                                      column{"status", field::text},
                                      column{"start_time", field::timestamp},
                                      column{"end_time", field::timestamp},
                                      column{"location_name", field::text},
                                      column{"latitude", field::real},
                                      column{"longitude", field::real},
                                      column{"metadata", field::json},
                                      column{"created_at", field::maintained},
                                      column{"updated_at", field::maintained},
                                      column{"version", field::integer}};

constexpr std::array media_columns = {column{"id", field::uuid},
                                      column{"event_id", field::uuid},
                                      column{"kind", field::text},
                                      column{"uri", field::text},
                                      column{"mime_type", field::text},
                                      column{"size_bytes", field::integer},
                                      column{"checksum", field::text},
                                      column{"captured_at", field::timestamp},
                                      column{"status", field::text},
                                      column{"metadata", field::json},
                                      column{"created_at", field::maintained},
                                      column{"updated_at", field::maintained}};

std::string selected(const dialect& sql, const column& c) {
  switch (c.kind) {
    case field::uuid:
      return sql.text_from_uuid(c.name);
    case field::timestamp:
    case field::maintained:
      return sql.micros_from_timestamp(c.name);
    case field::json:
      return sql.text_from_json(c.name);
    case field::text:
    case field::integer:
    case field::real:
      return std::string(c.name);
  }
  throw std::logic_error("unknown field kind");
}

// The canonical text of one column (table_digest).
std::string field_text(const native_row& row, int index, field kind) {
  if (row.null(index)) {
    return std::string(null_text);
  }
  switch (kind) {
    case field::text:
    case field::uuid:
      return escaped(row.text(index));
    case field::integer:
    case field::timestamp:
    case field::maintained:
      return std::to_string(row.integer(index));
    case field::real:
      // fmt's "{}" is the shortest text that reads back to the same double.
      return fmt::format("{}", row.real(index));
    case field::json:
      return escaped(nlohmann::json::parse(row.text(index)).dump());
  }
  throw std::logic_error("unknown field kind");
}

// Every row of `table` (its first column the id) as (id, canonical text), ordered by id in
// C++, so that no collation matters. Read through the backend's native statements, as the
// repositories read, but column by column into text rather than through their decoders.
std::vector<std::pair<std::string, std::string>> table_rows(connection& conn,
                                                            std::string_view table,
                                                            std::span<const column> columns,
                                                            bool maintained) {
  const auto* sql = conn.backend().sql_dialect();
  const auto* native = dynamic_cast<const native_statements*>(&conn.backend());
  if (sql == nullptr || native == nullptr) {
    throw std::logic_error("digest_tables needs a SQL backend with native statements");
  }
  std::vector<std::string> selects;
  for (const auto& c : columns) {
    selects.push_back(selected(*sql, c));
  }
  const auto select = fmt::format("SELECT {} FROM {}", fmt::join(selects, ", "), table);
  std::vector<std::pair<std::string, std::string>> rows;
  native->prepare(conn.session(), select, 0, false)->execute({}, [&](const native_row& row) {
    std::string text;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].kind == field::maintained && !maintained) {
        continue;
      }
      if (i > 0) {
        text += '\t';
      }
      text += field_text(row, static_cast<int>(i), columns[i].kind);
    }
    rows.emplace_back(row.text(0), text + '\n');
  });
  std::sort(rows.begin(), rows.end());
  return rows;
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
  const auto events = table_rows(conn, "events", event_columns, with_maintained);
  for (const auto& [id, row] : events) {
    text += row;
  }
  text += "media\n";
  const auto media = table_rows(conn, "media", media_columns, with_maintained);
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
