// SQLite's SQL dialect.

#include <sqlite3.h>

#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include "backend.hpp"

namespace evstore::sqlite {
namespace {

// True when `text` holds nothing but white space and comments.
bool is_blank(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    } else if (text.substr(i, 2) == "--") {
      const auto end = text.find('\n', i);
      i = end == std::string_view::npos ? text.size() : end + 1;
    } else if (text.substr(i, 2) == "/*") {
      const auto end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

// The statement without surrounding white space and its terminating ';'.
std::string trimmed(std::string_view statement) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!statement.empty() && is_space(statement.front())) {
    statement.remove_prefix(1);
  }
  while (!statement.empty() && (statement.back() == ';' || is_space(statement.back()))) {
    statement.remove_suffix(1);
  }
  return std::string(statement);
}

}  // namespace

std::vector<std::string> sqlite_dialect::split_statements(std::string_view script) const {
  // sqlite3_complete knows SQLite's quoting, comments and CREATE TRIGGER ... BEGIN ... END,
  // so a ';' inside them does not end a statement.
  std::vector<std::string> statements;
  std::string pending;
  for (const char c : script) {
    pending += c;
    if (c == ';' && sqlite3_complete(pending.c_str()) != 0) {
      if (!is_blank(pending.substr(0, pending.size() - 1))) {
        statements.push_back(trimmed(pending));
      }
      pending.clear();
    }
  }
  if (!is_blank(pending)) {
    statements.push_back(trimmed(pending));
  }
  return statements;
}

std::string sqlite_dialect::begin_write() const {
  // Take the write lock now, waiting up to the busy timeout: a plain (deferred) BEGIN takes it
  // only at the transaction's first write, and can fail there instead of waiting.
  return "BEGIN IMMEDIATE";
}

std::string sqlite_dialect::create_history_table() const {
  return "CREATE TABLE IF NOT EXISTS evstore_schema_migrations ("
         "scope TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, "
         "checksum TEXT NOT NULL, applied_at INTEGER NOT NULL, execution_ms INTEGER NOT NULL, "
         "applied_by TEXT NOT NULL, rehashed_from TEXT, PRIMARY KEY (scope, version)) STRICT";
}

std::string sqlite_dialect::now() const {
  // Microseconds since the epoch, exact to the millisecond: julianday('now') is a double with
  // tens of microseconds of rounding error, so round to whole milliseconds first (as the
  // schema's defaults do; docs/schema.md).
  return "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000";
}

std::string sqlite_dialect::timestamp_text(std::string_view column) const {
  return fmt::format("strftime('%Y-%m-%dT%H:%M:%fZ', {} / 1000000.0, 'unixepoch')", column);
}

std::string sqlite_dialect::table_exists(std::string_view table) const {
  return fmt::format("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{}'",
                     table);
}

std::string sqlite_dialect::timestamp_from_micros(std::string_view param) const {
  return std::string(param);
}

std::string sqlite_dialect::micros_from_timestamp(std::string_view column) const {
  return std::string(column);
}

std::string sqlite_dialect::uuid_from_text(std::string_view param) const {
  return std::string(param);
}

std::string sqlite_dialect::text_from_uuid(std::string_view column) const {
  return std::string(column);
}

std::string sqlite_dialect::json_from_text(std::string_view param) const {
  // json() stores the minified text, as jsonb normalises on PostgreSQL.
  return fmt::format("json({})", param);
}

std::string sqlite_dialect::text_from_json(std::string_view column) const {
  return std::string(column);
}

std::string sqlite_dialect::json_contains(std::string_view column, std::string_view param) const {
  // A function this plugin registers on every connection (json_functions.cpp).
  return fmt::format("evstore_json_contains({}, {})", column, param);
}

std::string sqlite_dialect::contains_ignoring_case(std::string_view column,
                                                   std::string_view param) const {
  // instr matches literally. SQLite's lower() folds ASCII letters only (docs/api.md).
  return fmt::format("instr(lower({}), lower({})) > 0", column, param);
}

std::string sqlite_dialect::skip_locked_rows() const {
  // A claim runs in a BEGIN IMMEDIATE transaction: claimers take turns.
  return {};
}

bool sqlite_dialect::lock_migrations(soci::session&, std::chrono::milliseconds) const {
  // Each migration runs in a BEGIN IMMEDIATE transaction that re-checks the history: the
  // database's write lock serialises migrators, and the busy timeout bounds the wait.
  return true;
}

void sqlite_dialect::unlock_migrations(soci::session&) const {}

std::optional<std::string> sqlite_dialect::migration_lock_holder(soci::session&) const {
  return std::nullopt;
}

}  // namespace evstore::sqlite
