// templatedb's SQL dialect: what the core's generic repositories and migration engine need
// to say differently on this database (see evstore/dialect.hpp for each member's contract).

#include <cctype>

// SOCI includes sqlite3.h inside namespace sqlite_api.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "backend.hpp"

namespace templatedb {
namespace {

// Whether `text` is only white space and `--` comments (the migrations use no /* */).
bool only_comments(std::string_view text) {
  bool in_comment = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (in_comment) {
      in_comment = text[i] != '\n';
    } else if (text.substr(i, 2) == "--") {
      in_comment = true;
    } else if (std::isspace(static_cast<unsigned char>(text[i])) == 0) {
      return false;
    }
  }
  return true;
}

std::string without_semicolon(std::string_view statement) {
  while (!statement.empty() && (statement.back() == ';' ||
                                std::isspace(static_cast<unsigned char>(statement.back())) != 0)) {
    statement.remove_suffix(1);
  }
  return std::string(statement);
}

}  // namespace

std::vector<std::string> templatedb_dialect::split_statements(std::string_view script) const {
  // A ';' ends a statement when SQLite's own tokenizer says the text up to it is complete,
  // so one inside a string, a comment or a trigger body does not.
  std::vector<std::string> statements;
  std::size_t start = 0;
  for (auto end = script.find(';'); end != std::string_view::npos;
       end = script.find(';', end + 1)) {
    const std::string candidate(script.substr(start, end + 1 - start));
    if (sqlite_api::sqlite3_complete(candidate.c_str()) != 0) {
      if (!only_comments(candidate.substr(0, candidate.size() - 1))) {
        statements.push_back(without_semicolon(candidate));
      }
      start = end + 1;
    }
  }
  if (!only_comments(script.substr(start))) {
    statements.push_back(without_semicolon(script.substr(start)));
  }
  return statements;
}

std::string templatedb_dialect::begin_write() const {
  return "BEGIN IMMEDIATE";  // take the write lock now, waiting up to the busy timeout
}

std::string templatedb_dialect::create_history_table() const {
  return "CREATE TABLE IF NOT EXISTS evstore_schema_migrations (scope TEXT NOT NULL, "
         "version INTEGER NOT NULL, name TEXT NOT NULL, checksum TEXT NOT NULL, "
         "applied_at INTEGER NOT NULL, execution_ms INTEGER NOT NULL, applied_by TEXT NOT NULL, "
         "rehashed_from TEXT, PRIMARY KEY (scope, version))";
}

std::string templatedb_dialect::now() const {
  // Microseconds since the epoch, whole milliseconds (SQLite's clock), as the schema's defaults.
  return "(CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000)";
}

std::string templatedb_dialect::timestamp_text(std::string_view column) const {
  return "strftime('%Y-%m-%dT%H:%M:%fZ', " + std::string(column) + " / 1000000.0, 'unixepoch')";
}

std::string templatedb_dialect::table_exists(std::string_view table) const {
  return "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '" +
         std::string(table) + "'";
}

// Timestamps are stored as integer microseconds and UUIDs as text: no conversion either way.
std::string templatedb_dialect::timestamp_from_micros(std::string_view param) const {
  return std::string(param);
}
std::string templatedb_dialect::micros_from_timestamp(std::string_view column) const {
  return std::string(column);
}
std::string templatedb_dialect::uuid_from_text(std::string_view param) const {
  return std::string(param);
}
std::string templatedb_dialect::text_from_uuid(std::string_view column) const {
  return std::string(column);
}

std::string templatedb_dialect::json_from_text(std::string_view param) const {
  return "json(" + std::string(param) + ")";  // stored minified
}
std::string templatedb_dialect::text_from_json(std::string_view column) const {
  return std::string(column);
}

std::string templatedb_dialect::json_contains(std::string_view column,
                                              std::string_view param) const {
  // An SQL function session.cpp adds to every connection, calling evstore::json_contains.
  return "templatedb_json_contains(" + std::string(column) + ", " + std::string(param) + ")";
}

std::string templatedb_dialect::contains_ignoring_case(std::string_view column,
                                                       std::string_view param) const {
  // instr() matches literally: '%' and '_' in the user's text are not wildcards.
  return "instr(lower(" + std::string(column) + "), lower(" + std::string(param) + ")) > 0";
}

std::string templatedb_dialect::skip_locked_rows() const {
  return {};  // claims run in BEGIN IMMEDIATE transactions, which take turns
}

bool templatedb_dialect::lock_migrations(soci::session&, std::chrono::milliseconds) const {
  return true;  // each migration's BEGIN IMMEDIATE transaction already serialises migrators
}

void templatedb_dialect::unlock_migrations(soci::session&) const {}

std::optional<std::string> templatedb_dialect::migration_lock_holder(soci::session&) const {
  return std::nullopt;
}

}  // namespace templatedb
