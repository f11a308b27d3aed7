// Native statements (evstore/native_statements.hpp) on the session's sqlite3 handle: the C
// API's prepared statements, read column by column without SOCI's per-row conversions; and
// the bulk insert path (backend::copy_rows), one such statement run row after row.

// SOCI includes sqlite3.h inside namespace sqlite_api, which hides the global declarations.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <charconv>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::sqlite {
namespace {

using sqlite_api::sqlite3;
using sqlite_api::sqlite3_stmt;

[[noreturn]] void throw_failure(sqlite3* db, std::string_view doing) {
  throw_for_result_code(sqlite_api::sqlite3_extended_errcode(db),
                        fmt::format("sqlite: {}: {}", doing, sqlite_api::sqlite3_errmsg(db)));
}

class statement_row final : public native_row {
 public:
  explicit statement_row(sqlite3_stmt* statement) : statement_(statement) {}

  [[nodiscard]] bool null(int column) const override {
    return sqlite_api::sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  [[nodiscard]] std::string_view text(int column) const override {
    // The text first, then its length: the conversion to text may change the length.
    const auto* characters = sqlite_api::sqlite3_column_text(statement_, column);
    const auto size =
        static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(statement_, column));
    return characters == nullptr
               ? std::string_view()
               : std::string_view(reinterpret_cast<const char*>(characters), size);
  }
  [[nodiscard]] std::int64_t integer(int column) const override {
    if (sqlite_api::sqlite3_column_type(statement_, column) == SQLITE_TEXT) {
      return parsed<std::int64_t>(column, "an integer");
    }
    return sqlite_api::sqlite3_column_int64(statement_, column);
  }
  [[nodiscard]] double real(int column) const override {
    if (sqlite_api::sqlite3_column_type(statement_, column) == SQLITE_TEXT) {
      return parsed<double>(column, "a number");
    }
    return sqlite_api::sqlite3_column_double(statement_, column);
  }

 private:
  // Text read as a number: all of it, or an error. SQLite's own conversion reads the longest
  // numeric prefix and gives 0 for none, which would turn bad data into a wrong value.
  template <typename T>
  T parsed(int column, std::string_view what) const {
    const auto digits = text(column);
    T value{};
    const auto [end, failure] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (failure != std::errc{} || end != digits.data() + digits.size()) {
      throw error(
          error_category::database,
          fmt::format("sqlite: column {} of a result is not {}: \"{}\"", column + 1, what, digits),
          "", "sqlite");
    }
    return value;
  }

  sqlite3_stmt* statement_;
};

class sqlite_statement final : public native_statement {
 public:
  sqlite_statement(soci::session& session, const std::string& sql, std::size_t parameters,
                   bool keep)
      : db_(native_connection(session)) {
    const unsigned flags = keep ? SQLITE_PREPARE_PERSISTENT : 0;
    if (sqlite_api::sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1), flags,
                                       &statement_, nullptr) != SQLITE_OK) {
      throw_failure(db_, "preparing a statement");
    }
    slots_.reserve(parameters);
    for (std::size_t i = 0; i < parameters; ++i) {
      slots_.push_back(
          sqlite_api::sqlite3_bind_parameter_index(statement_, fmt::format(":p{}", i).c_str()));
    }
  }
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;
  ~sqlite_statement() override { sqlite_api::sqlite3_finalize(statement_); }

  std::int64_t execute(std::span<const native_value> values,
                       const std::function<void(const native_row&)>& row) override {
    // Reset on every way out: a statement left mid-result holds its read snapshot open.
    const std::unique_ptr<sqlite3_stmt, decltype(&sqlite_api::sqlite3_reset)> reset(
        statement_, &sqlite_api::sqlite3_reset);
    for (std::size_t i = 0; i < values.size() && i < slots_.size(); ++i) {
      bind(slots_[i], values[i]);
    }
    const statement_row current(statement_);
    std::int64_t returned = 0;
    for (;;) {
      const int step = sqlite_api::sqlite3_step(statement_);
      if (step == SQLITE_DONE) {
        break;
      }
      if (step != SQLITE_ROW) {
        throw_failure(db_, "running a statement");
      }
      ++returned;
      row(current);
    }
    return sqlite_api::sqlite3_stmt_readonly(statement_) != 0 ? returned
                                                              : sqlite_api::sqlite3_changes64(db_);
  }

 private:
  // The value stays where it is until the statement has run: SQLite need not copy it (a null
  // destructor is SQLITE_STATIC, whose macro is an old-style cast).
  void bind(int slot, const native_value& value) {
    if (slot == 0) {
      return;
    }
    int result = SQLITE_OK;
    if (value.null) {
      result = sqlite_api::sqlite3_bind_null(statement_, slot);
    } else if (value.type == native_value::kind::text) {
      result = sqlite_api::sqlite3_bind_text(
          statement_, slot, value.text.data(), static_cast<int>(value.text.size()),
          static_cast<sqlite_api::sqlite3_destructor_type>(nullptr));
    } else if (value.type == native_value::kind::integer) {
      result = sqlite_api::sqlite3_bind_int64(statement_, slot, value.integer);
    } else {
      result = sqlite_api::sqlite3_bind_double(statement_, slot, value.real);
    }
    if (result != SQLITE_OK) {
      throw_failure(db_, "binding a value");
    }
  }

  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  std::vector<int> slots_;  // the bind index of each parameter; 0 when the SQL lacks it
};

}  // namespace

bool sqlite_backend::copy_rows(soci::session& session, std::string_view table,
                               std::span<const bulk_column> columns,
                               std::span<const bulk_value> values) const {
  std::string names;
  std::string expressions;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto separator = i == 0 ? "" : ", ";
    names += fmt::format("{}\"{}\"", separator, columns[i].name);
    // Every value as given, JSON too: it comes as compact text (bulk_type::json), which is
    // what json() would store, so it is not parsed once more here (the table's CHECK
    // constraint parses it).
    expressions += fmt::format("{}:p{}", separator, i);
  }
  sqlite_statement insert(
      session, fmt::format("INSERT INTO \"{}\" ({}) VALUES ({})", table, names, expressions),
      columns.size(), false);
  std::vector<native_value> row(columns.size());
  for (std::size_t at = 0; at + columns.size() <= values.size(); at += columns.size()) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto& value = values[at + i];
      auto& bound = row[i];
      bound.null = std::holds_alternative<std::monostate>(value);
      if (const auto* text = std::get_if<std::string>(&value)) {
        bound.type = native_value::kind::text;
        bound.text = *text;
      } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        bound.type = native_value::kind::integer;
        bound.integer = *integer;
      }
    }
    insert.execute(row, [](const native_row&) {});
  }
  return true;
}

std::unique_ptr<native_statement> sqlite_backend::prepare(soci::session& session,
                                                          const std::string& sql,
                                                          std::size_t parameters, bool keep) const {
  return std::make_unique<sqlite_statement>(session, sql, parameters, keep);
}

}  // namespace evstore::sqlite
