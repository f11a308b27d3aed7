// The built-in migrations of the SQLite and PostgreSQL plugins must produce the same logical
// schema: the same tables and columns (in the storage class SQLite uses for each PostgreSQL
// type), nullability, defaults, keys, named CHECK constraints on the same columns, indexes and
// triggers. Each schema is read from the database's own catalogue after running the real
// migration engine, normalised into one line per fact, and compared; a difference fails with
// the lines that differ on each side.

#include <algorithm>
#include <array>
#include <cctype>
#include <compare>
#include <cstddef>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/migrator.hpp>

#include "fresh_database.hpp"
#include "process.hpp"

namespace {

// How a PostgreSQL column type is represented on SQLite, as the SQLite storage class of the
// column (STRICT tables declare exactly these). This is the one place that says which types
// correspond; a PostgreSQL type missing here shows up in the diff as "unmapped(<type>)".
//
//   PostgreSQL                 SQLite    representation on SQLite
//   uuid                       TEXT      canonical lower-case text, 36 characters
//   text                       TEXT
//   jsonb                      TEXT      JSON text, checked with json_valid/json_type (JSON1)
//   timestamp with time zone   INTEGER   microseconds since 1970-01-01 00:00:00 UTC
//   bigint, integer            INTEGER   SQLite integers are 64-bit
//   double precision           REAL      IEEE 754 double on both
constexpr std::array<std::pair<std::string_view, std::string_view>, 7> postgresql_type_classes{{
    {"uuid", "TEXT"},
    {"text", "TEXT"},
    {"jsonb", "TEXT"},
    {"timestamp with time zone", "INTEGER"},
    {"bigint", "INTEGER"},
    {"integer", "INTEGER"},
    {"double precision", "REAL"},
}};

// Indexes that exist on PostgreSQL only, on purpose, each with its reason. The comparison
// ignores them, and fails when one of them is no longer there (so this list cannot go stale).
const std::map<std::string, std::string, std::less<>> postgresql_only_indexes{
    {"events_metadata_idx",
     "GIN (jsonb_path_ops) for metadata @> containment; SQLite has no index for JSON"},
    {"media_metadata_idx",
     "GIN (jsonb_path_ops) for metadata @> containment; SQLite has no index for JSON"},
};

// ---------------------------------------------------------------------------------------
// The normalised, backend-neutral schema.

struct column_def {
  std::string name;
  std::string type_class;  // TEXT, INTEGER, REAL, BLOB, NUMERIC
  bool not_null = false;
  bool has_default = false;
};

struct foreign_key_def {
  std::vector<std::string> columns;
  std::string table;
  std::vector<std::string> referenced;
  std::string on_delete;
  std::string on_update;
};

struct index_def {
  std::vector<std::string> columns;  // "(expression)" for an expression
  bool unique = false;
  bool partial = false;
};

struct table_def {
  std::vector<column_def> columns;  // in declaration order
  std::vector<std::string> primary_key;
  std::vector<foreign_key_def> foreign_keys;
  std::set<std::vector<std::string>> unique_constraints;
  std::map<std::string, std::set<std::string>> checks;  // name -> columns it references
  std::map<std::string, index_def> indexes;             // not those backing a constraint
  std::set<std::string> triggers;
};

using schema = std::map<std::string, table_def>;

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) {
    text += (text.empty() ? "" : ", ") + item;
  }
  return text;
}

std::string join(const std::set<std::string>& items) {
  return join(std::vector<std::string>(items.begin(), items.end()));
}

// One line per fact, each naming its table, so that a difference reads on its own.
std::vector<std::string> describe(const schema& tables) {
  std::vector<std::string> lines;
  for (const auto& [name, table] : tables) {
    const auto prefix = name + ": ";
    std::vector<std::string> order;
    for (const auto& column : table.columns) {
      lines.push_back(prefix + "column " + column.name + " " + column.type_class +
                      (column.not_null ? " NOT NULL" : " NULL") +
                      (column.has_default ? " DEFAULT" : ""));
      order.push_back(column.name);
    }
    lines.push_back(prefix + "column order (" + join(order) + ")");
    lines.push_back(prefix + "primary key (" + join(table.primary_key) + ")");
    for (const auto& key : table.foreign_keys) {
      lines.push_back(prefix + "foreign key (" + join(key.columns) + ") references " + key.table +
                      " (" + join(key.referenced) + ") on delete " + key.on_delete + " on update " +
                      key.on_update);
    }
    for (const auto& columns : table.unique_constraints) {
      lines.push_back(prefix + "unique (" + join(columns) + ")");
    }
    for (const auto& [check, columns] : table.checks) {
      lines.push_back(prefix + "check " + check + " on (" + join(columns) + ")");
    }
    for (const auto& [index, def] : table.indexes) {
      lines.push_back(prefix + "index " + index + " (" + join(def.columns) + ")" +
                      (def.unique ? " unique" : "") + (def.partial ? " partial" : ""));
    }
    for (const auto& trigger : table.triggers) {
      lines.push_back(prefix + "trigger " + trigger);
    }
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

// What a fact is about: its table, its kind and its name ("events: column title"), the
// first three words of its line, so that two versions of one fact sort together.
std::string subject_of(const std::string& line) {
  std::size_t end = std::string::npos;
  std::size_t from = 0;
  for (int words = 0; words < 3; ++words) {
    end = line.find(' ', from);
    if (end == std::string::npos) {
      break;
    }
    from = end + 1;
  }
  return line.substr(0, end);
}

// The facts that differ, one per line, "- <left>: fact" or "+ <right>: fact", sorted by what
// they are about, left before right, so that the two versions of a changed fact stand
// together. Empty when the schemas agree.
std::string diff(const schema& left, std::string_view left_name, const schema& right,
                 std::string_view right_name) {
  const auto left_lines = describe(left);
  const auto right_lines = describe(right);
  std::vector<std::string> only_left;
  std::vector<std::string> only_right;
  std::set_difference(left_lines.begin(), left_lines.end(), right_lines.begin(), right_lines.end(),
                      std::back_inserter(only_left));
  std::set_difference(right_lines.begin(), right_lines.end(), left_lines.begin(), left_lines.end(),
                      std::back_inserter(only_right));
  struct entry {
    std::string subject;
    int side;  // 0 left, 1 right
    std::string line;
    auto operator<=>(const entry&) const = default;
  };
  std::vector<entry> entries;
  for (const auto& line : only_left) {
    entries.push_back({subject_of(line), 0, line});
  }
  for (const auto& line : only_right) {
    entries.push_back({subject_of(line), 1, line});
  }
  std::sort(entries.begin(), entries.end());
  const auto width = std::max(left_name.size(), right_name.size());
  std::string text;
  for (const auto& item : entries) {
    auto label = std::string(item.side == 0 ? "- " : "+ ") +
                 std::string(item.side == 0 ? left_name : right_name) + ":";
    label.resize(width + 4, ' ');
    text += label + item.line + "\n";
  }
  return text;
}

// ---------------------------------------------------------------------------------------
// Reading catalogues through SOCI.

// SOCI types a column from what the backend reports, which differs between the backends (and,
// for SQLite expression columns, has no declared type at all): read any cell as text.
std::optional<std::string> text_of(const soci::row& row, std::size_t i) {
  if (row.get_indicator(i) == soci::i_null) {
    return std::nullopt;
  }
  switch (row.get_properties(i).get_data_type()) {
    case soci::dt_string:
      return row.get<std::string>(i);
    case soci::dt_integer:
      return std::to_string(row.get<int>(i));
    case soci::dt_long_long:
      return std::to_string(row.get<long long>(i));
    case soci::dt_unsigned_long_long:
      return std::to_string(row.get<unsigned long long>(i));
    case soci::dt_double: {
      std::ostringstream text;
      text << row.get<double>(i);
      return text.str();
    }
    default:
      throw std::runtime_error("unexpected column type in a catalogue query, column " +
                               row.get_properties(i).get_name());
  }
}

std::string string_of(const soci::row& row, std::size_t i) {
  return text_of(row, i).value_or("");
}

bool flag_of(const soci::row& row, std::size_t i) {
  const auto text = text_of(row, i);
  return text.has_value() && *text != "0" && *text != "f" && *text != "false";
}

long long integer_of(const soci::row& row, std::size_t i) {
  return std::stoll(string_of(row, i));
}

// Runs `sql` (with `arguments` bound in order) and calls `each` for every row.
template <typename Each>
void for_each_row(soci::session& session, const std::string& sql,
                  const std::vector<std::string>& arguments, Each each) {
  // rowset keeps references to what it binds, so the arguments stay in this frame.
  std::vector<std::string> bound = arguments;
  auto prepared = session.prepare << sql;
  for (auto& argument : bound) {
    prepared, soci::use(argument);
  }
  soci::rowset<soci::row> rows = prepared;
  for (const auto& row : rows) {
    each(row);
  }
}

std::string type_class_of_postgresql(std::string_view type) {
  for (const auto& [postgresql, sqlite] : postgresql_type_classes) {
    if (postgresql == type) {
      return std::string(sqlite);
    }
  }
  return "unmapped(" + std::string(type) + ")";
}

// SQLite's rules for a column's type affinity from its declared type ("Datatypes In SQLite",
// 3.1), so that a table that is not STRICT, declared with BIGINT or VARCHAR, still compares.
std::string type_class_of_sqlite(std::string declared) {
  for (auto& c : declared) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const auto has = [&declared](std::string_view part) {
    return declared.find(part) != std::string::npos;
  };
  if (has("INT")) {
    return "INTEGER";
  }
  if (has("CHAR") || has("CLOB") || has("TEXT")) {
    return "TEXT";
  }
  if (has("BLOB") || declared.empty()) {
    return "BLOB";
  }
  if (has("REAL") || has("FLOA") || has("DOUB")) {
    return "REAL";
  }
  return "NUMERIC";
}

constexpr std::string_view postgresql_tables_sql = R"(
SELECT c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
 ORDER BY c.relname)";

constexpr std::string_view postgresql_columns_sql = R"(
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CAST(a.attnotnull AS integer), CAST(a.atthasdef AS integer)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum)";

// Primary key, unique and CHECK constraints with the columns they name (conkey); a CHECK on
// no column at all still gives one row, with a NULL column.
constexpr std::string_view postgresql_constraints_sql = R"(
SELECT c.relname, con.conname, CAST(con.contype AS text), a.attname
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) ON true
  LEFT JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   AND con.contype IN ('p', 'u', 'c')
 ORDER BY c.relname, con.conname, k.ord)";

constexpr std::string_view postgresql_foreign_keys_sql = R"(
SELECT c.relname, con.conname, a.attname, rc.relname, ra.attname,
       CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END,
       CASE con.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class rc ON rc.oid = con.confrelid
  CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, ord)
  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
  JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND con.contype = 'f'
 ORDER BY c.relname, con.conname, k.ord)";

// Indexes, except those that implement a primary key, unique or exclusion constraint (they
// are compared as constraints). An expression column has attnum 0, hence a NULL name.
constexpr std::string_view postgresql_indexes_sql = R"(
SELECT c.relname, i.relname, CAST(x.indisunique AS integer),
       CAST(x.indpred IS NOT NULL AS integer), a.attname
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL unnest(CAST(x.indkey AS int2[])) WITH ORDINALITY AS k(attnum, ord)
  LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                    WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x'))
 ORDER BY c.relname, i.relname, k.ord)";

constexpr std::string_view postgresql_triggers_sql = R"(
SELECT c.relname, t.tgname
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT t.tgisinternal)";

schema read_postgresql_schema(soci::session& session) {
  schema tables;
  for_each_row(session, std::string(postgresql_tables_sql), {},
               [&](const soci::row& row) { tables[string_of(row, 0)]; });
  for_each_row(session, std::string(postgresql_columns_sql), {}, [&](const soci::row& row) {
    tables.at(string_of(row, 0))
        .columns.push_back({string_of(row, 1), type_class_of_postgresql(string_of(row, 2)),
                            flag_of(row, 3), flag_of(row, 4)});
  });
  // Rows come grouped by constraint, columns in key order.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> unique_columns;
  for_each_row(session, std::string(postgresql_constraints_sql), {}, [&](const soci::row& row) {
    auto& table = tables.at(string_of(row, 0));
    const auto name = string_of(row, 1);
    const auto type = string_of(row, 2);
    const auto column = text_of(row, 3);
    if (type == "p" && column) {
      table.primary_key.push_back(*column);
    } else if (type == "u" && column) {
      unique_columns[{string_of(row, 0), name}].push_back(*column);
    } else if (type == "c") {
      auto& columns = table.checks[name];
      if (column) {
        columns.insert(*column);
      }
    }
  });
  for (const auto& [key, columns] : unique_columns) {
    tables.at(key.first).unique_constraints.insert(columns);
  }
  std::map<std::pair<std::string, std::string>, foreign_key_def> keys;
  for_each_row(session, std::string(postgresql_foreign_keys_sql), {}, [&](const soci::row& row) {
    auto& key = keys[{string_of(row, 0), string_of(row, 1)}];
    key.columns.push_back(string_of(row, 2));
    key.table = string_of(row, 3);
    key.referenced.push_back(string_of(row, 4));
    key.on_delete = string_of(row, 5);
    key.on_update = string_of(row, 6);
  });
  for (const auto& [name, key] : keys) {
    tables.at(name.first).foreign_keys.push_back(key);
  }
  for_each_row(session, std::string(postgresql_indexes_sql), {}, [&](const soci::row& row) {
    auto& index = tables.at(string_of(row, 0)).indexes[string_of(row, 1)];
    index.unique = flag_of(row, 2);
    index.partial = flag_of(row, 3);
    index.columns.push_back(text_of(row, 4).value_or("(expression)"));
  });
  for_each_row(session, std::string(postgresql_triggers_sql), {}, [&](const soci::row& row) {
    tables.at(string_of(row, 0)).triggers.insert(string_of(row, 1));
  });
  for (auto& [name, table] : tables) {
    std::sort(table.foreign_keys.begin(), table.foreign_keys.end(),
              [](const auto& a, const auto& b) { return a.columns < b.columns; });
  }
  return tables;
}

// A token of SQLite's SQL, enough to find CHECK constraints in a CREATE TABLE statement.
struct sql_token {
  enum class kind { word, quoted_identifier, string, number, punctuation };
  kind type;
  std::string text;  // identifiers unquoted
};

bool is_word_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}

// Reads a quoted token starting at `i` (on the opening quote), where a doubled closing quote
// stands for itself; returns the unquoted text and moves `i` past the closing quote.
std::string read_quoted(std::string_view sql, std::size_t& i, char close) {
  std::string text;
  for (++i; i < sql.size(); ++i) {
    if (sql[i] == close) {
      if (i + 1 < sql.size() && sql[i + 1] == close && close != ']') {
        text += close;
        ++i;
        continue;
      }
      ++i;
      return text;
    }
    text += sql[i];
  }
  return text;
}

std::vector<sql_token> tokenize(std::string_view sql) {
  std::vector<sql_token> tokens;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      const auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '\'') {
      tokens.push_back({sql_token::kind::string, read_quoted(sql, i, '\'')});
    } else if (c == '"' || c == '`' || c == '[') {
      tokens.push_back(
          {sql_token::kind::quoted_identifier, read_quoted(sql, i, c == '[' ? ']' : c)});
    } else if (is_word_start(c)) {
      const auto start = i;
      while (i < sql.size() && is_word_char(sql[i])) {
        ++i;
      }
      tokens.push_back({sql_token::kind::word, std::string(sql.substr(start, i - start))});
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.') {
      const auto start = i;
      while (i < sql.size() && (is_word_char(sql[i]) || sql[i] == '.')) {
        ++i;
      }
      tokens.push_back({sql_token::kind::number, std::string(sql.substr(start, i - start))});
    } else {
      tokens.push_back({sql_token::kind::punctuation, std::string(1, c)});
      ++i;
    }
  }
  return tokens;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The CHECK constraints of a CREATE TABLE statement: name (or "(unnamed)") -> the table's
// columns that appear as whole identifiers in the expression (string literals do not count).
std::map<std::string, std::set<std::string>> parse_checks(std::string_view create_table,
                                                          const std::vector<column_def>& columns) {
  std::map<std::string, std::set<std::string>> checks;
  const auto tokens = tokenize(create_table);
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i].type != sql_token::kind::word || !equals_ignoring_case(tokens[i].text, "CHECK") ||
        tokens[i + 1].text != "(") {
      continue;
    }
    std::string name = "(unnamed)";
    if (i >= 2 && tokens[i - 2].type == sql_token::kind::word &&
        equals_ignoring_case(tokens[i - 2].text, "CONSTRAINT")) {
      name = tokens[i - 1].text;
    }
    auto& referenced = checks[name];
    int depth = 0;
    for (std::size_t j = i + 1; j < tokens.size(); ++j) {
      const auto& token = tokens[j];
      if (token.type == sql_token::kind::punctuation && token.text == "(") {
        ++depth;
      } else if (token.type == sql_token::kind::punctuation && token.text == ")") {
        if (--depth == 0) {
          i = j;
          break;
        }
      } else if (token.type == sql_token::kind::word ||
                 token.type == sql_token::kind::quoted_identifier) {
        for (const auto& column : columns) {
          if (equals_ignoring_case(token.text, column.name)) {
            referenced.insert(column.name);
          }
        }
      }
    }
  }
  return checks;
}

schema read_sqlite_schema(soci::session& session) {
  schema tables;
  std::map<std::string, std::string> create_statements;
  for_each_row(session,
               "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
               "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
               {}, [&](const soci::row& row) {
                 tables[string_of(row, 0)];
                 create_statements[string_of(row, 0)] = string_of(row, 1);
               });
  for (auto& [name, table] : tables) {
    std::map<long long, std::string> key_columns;
    for_each_row(
        session,
        "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk "
        "FROM pragma_table_info(?) ORDER BY cid",
        {name}, [&](const soci::row& row) {
          table.columns.push_back({string_of(row, 0), type_class_of_sqlite(string_of(row, 1)),
                                   flag_of(row, 2), flag_of(row, 3)});
          if (const auto position = integer_of(row, 4); position > 0) {
            key_columns[position] = string_of(row, 0);
          }
        });
    for (const auto& [position, column] : key_columns) {
      table.primary_key.push_back(column);
    }
    std::map<long long, foreign_key_def> keys;
    for_each_row(session,
                 "SELECT id, \"table\", \"from\", \"to\", on_delete, on_update "
                 "FROM pragma_foreign_key_list(?) ORDER BY id, seq",
                 {name}, [&](const soci::row& row) {
                   auto& key = keys[integer_of(row, 0)];
                   key.table = string_of(row, 1);
                   key.columns.push_back(string_of(row, 2));
                   key.referenced.push_back(string_of(row, 3));
                   key.on_delete = string_of(row, 4);
                   key.on_update = string_of(row, 5);
                 });
    for (const auto& [id, key] : keys) {
      table.foreign_keys.push_back(key);
    }
    std::sort(table.foreign_keys.begin(), table.foreign_keys.end(),
              [](const auto& a, const auto& b) { return a.columns < b.columns; });
    // origin: 'pk' backs the primary key (compared above), 'u' a UNIQUE constraint, 'c' a
    // CREATE INDEX.
    for_each_row(session, "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)",
                 {name}, [&](const soci::row& row) {
                   const auto index = string_of(row, 0);
                   const auto origin = string_of(row, 2);
                   if (origin == "pk") {
                     return;
                   }
                   std::vector<std::string> columns;
                   for_each_row(session, "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                                {index}, [&](const soci::row& column) {
                                  columns.push_back(text_of(column, 0).value_or("(expression)"));
                                });
                   if (origin == "u") {
                     table.unique_constraints.insert(columns);
                   } else {
                     table.indexes[index] = {columns, flag_of(row, 1), flag_of(row, 3)};
                   }
                 });
    table.checks = parse_checks(create_statements.at(name), table.columns);
    for_each_row(session, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                 {name}, [&](const soci::row& row) { table.triggers.insert(string_of(row, 0)); });
  }
  return tables;
}

// Removes the allow-listed PostgreSQL-only indexes, failing for any that is not there.
void remove_postgresql_only_indexes(schema& tables) {
  for (const auto& [index, reason] : postgresql_only_indexes) {
    bool found = false;
    for (auto& [name, table] : tables) {
      found = table.indexes.erase(index) > 0 || found;
    }
    EXPECT_TRUE(found) << "the PostgreSQL-only index " << index << " (" << reason
                       << ") is gone: remove it from postgresql_only_indexes";
  }
}

// ---------------------------------------------------------------------------------------

evstore::connection open_and_migrate(const evstore::database_url& url) {
  auto connection = evstore::connection::open(evstore::test::default_plugins(), url, {});
  evstore::migrator migrator(connection, {}, {});
  migrator.up();
  return connection;
}

evstore::database_url sqlite_file_url(const evstore::test::temp_dir& dir) {
  return evstore::parse_database_url("sqlite://" + (dir.path() / "schema.db").string());
}

std::vector<std::string> table_names(const schema& tables) {
  std::vector<std::string> names;
  for (const auto& [name, table] : tables) {
    names.push_back(name);
  }
  return names;
}

}  // namespace

TEST(schema_parity, sqlite_and_postgresql_schemas_are_logically_identical) {
  const evstore::test::temp_dir dir;
  auto sqlite = open_and_migrate(sqlite_file_url(dir));
  const evstore::test::fresh_postgresql_database database("parity");
  auto postgresql = open_and_migrate(database.url());

  const auto sqlite_schema = read_sqlite_schema(sqlite.session());
  auto postgresql_schema = read_postgresql_schema(postgresql.session());
  remove_postgresql_only_indexes(postgresql_schema);

  // Two empty schemas would agree too: make sure the migrations ran.
  const std::vector<std::string> expected_tables{"events", "evstore_schema_migrations", "media"};
  EXPECT_EQ(table_names(sqlite_schema), expected_tables);
  EXPECT_EQ(table_names(postgresql_schema), expected_tables);

  const auto difference = diff(sqlite_schema, "sqlite", postgresql_schema, "postgresql");
  EXPECT_TRUE(difference.empty()) << "the schemas differ:\n" << difference;
}

TEST(schema_parity, the_comparison_names_a_column_whose_nullability_differs) {
  table_def events;
  events.columns = {{"id", "TEXT", true, false}, {"title", "TEXT", true, false}};
  events.primary_key = {"id"};
  events.checks["events_title_check"] = {"title"};
  events.indexes["events_title_idx"] = {{"title"}, false, false};
  schema sqlite_schema{{"events", events}};
  schema postgresql_schema = sqlite_schema;
  postgresql_schema.at("events").columns[1].not_null = false;

  EXPECT_EQ(diff(sqlite_schema, "sqlite", sqlite_schema, "postgresql"), "");
  EXPECT_EQ(diff(sqlite_schema, "sqlite", postgresql_schema, "postgresql"),
            "- sqlite:     events: column title TEXT NOT NULL\n"
            "+ postgresql: events: column title TEXT NULL\n");
}

TEST(schema_parity, the_comparison_names_a_missing_index_and_a_check_on_other_columns) {
  table_def media;
  media.columns = {{"id", "TEXT", true, false}, {"uri", "TEXT", true, false}};
  media.checks["media_uri_check"] = {"uri"};
  media.indexes["media_uri_idx"] = {{"uri"}, true, false};
  schema sqlite_schema{{"media", media}};
  schema postgresql_schema = sqlite_schema;
  postgresql_schema.at("media").indexes.clear();
  postgresql_schema.at("media").checks["media_uri_check"] = {"id", "uri"};

  EXPECT_EQ(diff(sqlite_schema, "sqlite", postgresql_schema, "postgresql"),
            "- sqlite:     media: check media_uri_check on (uri)\n"
            "+ postgresql: media: check media_uri_check on (id, uri)\n"
            "- sqlite:     media: index media_uri_idx (uri) unique\n");
}

TEST(schema_parity, sqlite_check_constraints_are_read_by_name_with_the_columns_they_use) {
  const std::vector<column_def> columns{{"kind", "TEXT", true, false},
                                        {"image", "TEXT", false, false},
                                        {"size", "INTEGER", false, false}};
  const auto checks = parse_checks(
      "CREATE TABLE t (kind TEXT NOT NULL CHECK (kind <> ''), image TEXT, size INTEGER,\n"
      "  -- a comment that says CHECK (size > 0)\n"
      "  CONSTRAINT t_kind_check CHECK (kind IN ('image', 'video')),\n"
      "  CONSTRAINT \"t size check\" CHECK ((size IS NULL) = (\"IMAGE\" IS NULL)))",
      columns);
  const std::map<std::string, std::set<std::string>> expected{
      {"(unnamed)", {"kind"}},
      {"t_kind_check", {"kind"}},
      {"t size check", {"image", "size"}},
  };
  EXPECT_EQ(checks, expected);
}

TEST(schema_parity, every_sqlite_table_is_strict_so_that_types_are_enforced_as_on_postgresql) {
  const evstore::test::temp_dir dir;
  auto sqlite = open_and_migrate(sqlite_file_url(dir));
  std::vector<std::string> loose;
  for_each_row(sqlite.session(),
               "SELECT name, strict FROM pragma_table_list WHERE schema = 'main' "
               "AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
               {}, [&](const soci::row& row) {
                 if (!flag_of(row, 1)) {
                   loose.push_back(string_of(row, 0));
                 }
               });
  EXPECT_TRUE(loose.empty()) << "tables that are not STRICT: " << join(loose);
}

TEST(schema_parity, the_down_migrations_remove_exactly_what_the_up_migrations_create) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database database("down_up");
  struct backend_case {
    std::string name;
    evstore::database_url url;
    schema (*read)(soci::session&);
  };
  const std::vector<backend_case> cases{{"sqlite", sqlite_file_url(dir), read_sqlite_schema},
                                        {"postgresql", database.url(), read_postgresql_schema}};
  for (const auto& backend : cases) {
    SCOPED_TRACE(backend.name);
    auto connection = open_and_migrate(backend.url);
    const auto migrated = backend.read(connection.session());
    evstore::migrator migrator(connection, {}, {});

    migrator.down_to(evstore::migration_id{std::string(evstore::builtin_scope), 0});
    const auto reverted = backend.read(connection.session());
    EXPECT_EQ(table_names(reverted), std::vector<std::string>{"evstore_schema_migrations"});
    if (backend.name == "postgresql") {
      int functions = -1;
      connection.session() << "SELECT CAST(count(*) AS integer) FROM pg_proc p "
                              "JOIN pg_namespace n ON n.oid = p.pronamespace "
                              "WHERE n.nspname = current_schema() AND p.proname LIKE 'evstore%'",
          soci::into(functions);
      EXPECT_EQ(functions, 0) << "a down migration left a function behind";
    }

    migrator.up();
    const auto difference =
        diff(migrated, "first up", backend.read(connection.session()), "up after down");
    EXPECT_TRUE(difference.empty()) << difference;
  }
}
