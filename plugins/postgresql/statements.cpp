// Native statements (evstore/native_statements.hpp) on the session's PGconn: prepared once
// under a name of their own, executed with text parameters, and read from the PGresult
// without SOCI's per-row conversions.

#include <libpq-fe.h>

#include <array>
#include <atomic>
#include <charconv>
#include <memory>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

constexpr std::string_view backend_name = "postgresql";

struct result_deleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

[[noreturn]] void throw_failure(PGconn* conn, const PGresult* result, std::string_view doing) {
  if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) {
    throw connection_error(
        fmt::format("postgresql: {}: {}", doing,
                    conn == nullptr ? "the connection is closed" : trimmed(PQerrorMessage(conn))),
        "", std::string(backend_name));
  }
  const char* code = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  throw_for_sqlstate(code != nullptr ? code : "",
                     fmt::format("postgresql: {}: {}", doing,
                                 trimmed(result != nullptr ? PQresultErrorMessage(result)
                                                           : PQerrorMessage(conn))));
}

// A row of a text-format result.
class result_row final : public native_row {
 public:
  result_row(const PGresult* result, int row) : result_(result), row_(row) {}

  [[nodiscard]] bool null(int column) const override {
    return PQgetisnull(result_, row_, column) != 0;
  }
  [[nodiscard]] std::string_view text(int column) const override {
    return {PQgetvalue(result_, row_, column),
            static_cast<std::size_t>(PQgetlength(result_, row_, column))};
  }
  [[nodiscard]] std::int64_t integer(int column) const override {
    return number<std::int64_t>(column, "an integer");
  }
  [[nodiscard]] double real(int column) const override {
    return number<double>(column, "a number");
  }

 private:
  template <typename T>
  T number(int column, std::string_view what) const {
    const auto digits = text(column);
    T value{};
    const auto [end, failure] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (failure != std::errc{} || end != digits.data() + digits.size()) {
      throw error(error_category::database,
                  fmt::format("postgresql: column {} of a result is not {}: \"{}\"", column + 1,
                              what, digits),
                  "", std::string(backend_name));
    }
    return value;
  }

  const PGresult* result_;
  int row_;
};

// The text form of a parameter: text as it is, numbers in `number`.
const char* parameter_text(const native_value& value, std::array<char, 32>& number) {
  if (value.null) {
    return nullptr;
  }
  std::to_chars_result written{};
  switch (value.type) {
    case native_value::kind::text:
      return value.text.data();
    case native_value::kind::integer:
      written = std::to_chars(number.data(), number.data() + number.size() - 1, value.integer);
      break;
    case native_value::kind::real:
      // The shortest form that reads back as the same double.
      written = std::to_chars(number.data(), number.data() + number.size() - 1, value.real);
      break;
  }
  *written.ptr = '\0';
  return number.data();
}

class pg_statement final : public native_statement {
 public:
  pg_statement(soci::session& session, const std::string& sql, std::size_t parameters, bool keep)
      : session_(session), sql_(to_numbered_parameters(sql)) {
    if (!keep) {
      return;
    }
    static std::atomic<std::uint64_t> counter = 0;
    name_ = fmt::format("evstore_{}", ++counter);
    PGconn* conn = native_connection(session_);
    if (conn == nullptr) {
      throw_failure(conn, nullptr, "preparing a statement");
    }
    const result_ptr prepared(
        PQprepare(conn, name_.c_str(), sql_.c_str(), static_cast<int>(parameters), nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      name_.clear();
      throw_failure(conn, prepared.get(), "preparing a statement");
    }
  }
  pg_statement(const pg_statement&) = delete;
  pg_statement& operator=(const pg_statement&) = delete;

  // Lets the server forget the statement, unless the connection is gone (closed by
  // close_now before a discard: nothing to wait on).
  ~pg_statement() override {
    PGconn* conn = native_connection(session_);
    if (name_.empty() || conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      return;
    }
    PQclear(PQexec(conn, fmt::format("DEALLOCATE {}", name_).c_str()));
  }

  std::int64_t execute(std::span<const native_value> values,
                       const std::function<void(const native_row&)>& row) override {
    PGconn* conn = native_connection(session_);
    if (conn == nullptr) {
      throw_failure(conn, nullptr, "running a statement");
    }
    std::vector<std::array<char, 32>> numbers(values.size());
    std::vector<const char*> texts(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      texts[i] = parameter_text(values[i], numbers[i]);
    }
    const int count = static_cast<int>(values.size());
    const result_ptr result(
        name_.empty()
            ? PQexecParams(conn, sql_.c_str(), count, nullptr, texts.data(), nullptr, nullptr, 0)
            : PQexecPrepared(conn, name_.c_str(), count, texts.data(), nullptr, nullptr, 0));
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      throw_failure(conn, result.get(), "running a statement");
    }
    const int rows = PQntuples(result.get());
    for (int i = 0; i < rows; ++i) {
      row(result_row(result.get(), i));
    }
    // "SELECT 5", "INSERT 0 1", "UPDATE 2": the rows returned or changed.
    std::int64_t counted = 0;
    const std::string_view tuples = PQcmdTuples(result.get());
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), counted);
    return counted;
  }

 private:
  // PostgreSQL numbers parameters $1, $2, ...: `:p<n>` becomes `$<n+1>`, outside quoted
  // literals and identifiers, and never in a `::` cast.
  static std::string to_numbered_parameters(const std::string& sql) {
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (std::size_t i = 0; i < sql.size(); ++i) {
      const char c = sql[i];
      if (quote != 0) {
        quote = c == quote ? 0 : quote;
        out += c;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == ':' && i + 2 < sql.size() && sql[i + 1] == 'p' &&
                 std::isdigit(static_cast<unsigned char>(sql[i + 2])) != 0 &&
                 (i == 0 || sql[i - 1] != ':')) {
        std::size_t index = 0;
        // A digit follows: the index parses.
        const char* end = std::from_chars(sql.data() + i + 2, sql.data() + sql.size(), index).ptr;
        out += fmt::format("${}", index + 1);
        i = static_cast<std::size_t>(end - sql.data()) - 1;
        continue;
      }
      out += c;
    }
    return out;
  }

  soci::session& session_;
  std::string sql_;
  std::string name_;  // empty: run once, unnamed
};

}  // namespace

std::unique_ptr<native_statement> postgresql_backend::prepare(soci::session& session,
                                                              const std::string& sql,
                                                              std::size_t parameters,
                                                              bool keep) const {
  return std::make_unique<pg_statement>(session, sql, parameters, keep);
}

}  // namespace evstore::postgresql
