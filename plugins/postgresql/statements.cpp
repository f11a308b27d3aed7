// Native statements (evstore/native_statements.hpp) on the session's PGconn: prepared once
// under a name of their own, executed with text parameters, and read from a binary-format
// PGresult without SOCI's per-row conversions.

#include <libpq-fe.h>

#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <limits>
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

// What was being done, with the setting to make when the failure shows that a transaction-mode
// pooler handed the connection's named statements to another client: a statement of ours
// already exists (42P05) or no longer does (26000).
std::string pooled_statement_failure(const PGresult* result, std::string_view doing) {
  const char* code = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = code != nullptr ? code : "";
  const std::string_view message = result != nullptr ? PQresultErrorMessage(result) : "";
  if ((sqlstate == "42P05" || sqlstate == "26000") &&
      message.find("\"evstore_") != std::string_view::npos) {
    return fmt::format("{}{}", doing, pooler_hint);
  }
  return std::string(doing);
}

// Type OIDs of PostgreSQL's catalog (pg_type.dat): fixed, the same in every version.
namespace oid {
constexpr Oid int8 = 20;
constexpr Oid int2 = 21;
constexpr Oid int4 = 23;
constexpr Oid text = 25;
constexpr Oid json = 114;
constexpr Oid float4 = 700;
constexpr Oid float8 = 701;
constexpr Oid bpchar = 1042;
constexpr Oid varchar = 1043;
constexpr Oid timestamptz = 1184;
constexpr Oid uuid = 2950;
constexpr Oid jsonb = 3802;
}  // namespace oid

// The Unix epoch in PostgreSQL's timestamps, microseconds since 2000-01-01 00:00 UTC.
constexpr std::int64_t unix_epoch = -946'684'800'000'000;
// The first byte of a jsonb value in binary: the format's version.
constexpr char jsonb_version = 1;

// An unsigned big-endian integer of `bytes`, as the binary format sends every number.
std::uint64_t big_endian(const char* bytes, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i) {
    value = value << 8U | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

// A row of a binary-format result. Binary, because the text form costs the server: a
// timestamptz is sent as its 8-byte count of microseconds instead of being formatted as a date
// (and EXTRACT(EPOCH) computed in numeric before), a UUID as its 16 bytes instead of 36 hex
// digits. The dialect selects those columns bare for that reason (dialect.cpp). Text columns are
// the same bytes in both formats.
class binary_row final : public native_row {
 public:
  // `scratch` holds a column's text where it has to be made (a UUID's, a number's), one
  // buffer per column, so that the text of every column stays valid during the callback.
  binary_row(const PGresult* result, int row, std::vector<std::array<char, 40>>& scratch)
      : result_(result), row_(row), scratch_(scratch) {}

  [[nodiscard]] bool null(int column) const override {
    return PQgetisnull(result_, row_, column) != 0;
  }

  [[nodiscard]] std::string_view text(int column) const override {
    const auto bytes = value(column);
    switch (PQftype(result_, column)) {
      case oid::text:
      case oid::varchar:
      case oid::bpchar:
      case oid::json:
        return bytes;
      case oid::jsonb:
        if (bytes.empty() || bytes.front() != jsonb_version) {
          throw unreadable(column, "jsonb of an unknown binary version");
        }
        return bytes.substr(1);
      case oid::uuid:
        return uuid_text(column, bytes);
      case oid::int2:
      case oid::int4:
      case oid::int8: {
        auto& buffer = scratch_[static_cast<std::size_t>(column)];
        const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(),
                                       signed_integer(column, bytes))
                             .ptr;
        return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
      }
      default:
        throw unreadable(column, "a type this reader does not read as text");
    }
  }

  [[nodiscard]] std::int64_t integer(int column) const override {
    const auto bytes = value(column);
    switch (PQftype(result_, column)) {
      case oid::int2:
      case oid::int4:
      case oid::int8:
        return signed_integer(column, bytes);
      case oid::timestamptz:
        return unix_micros(column, bytes);
      case oid::text:
      case oid::varchar:
        return parsed<std::int64_t>(column, bytes, "an integer");
      default:
        throw unreadable(column, "not an integer");
    }
  }

  [[nodiscard]] double real(int column) const override {
    const auto bytes = value(column);
    switch (PQftype(result_, column)) {
      case oid::float8:
        return std::bit_cast<double>(big_endian(bytes.data(), sized(column, bytes, 8).size()));
      case oid::float4:
        return std::bit_cast<float>(
            static_cast<std::uint32_t>(big_endian(bytes.data(), sized(column, bytes, 4).size())));
      case oid::int2:
      case oid::int4:
      case oid::int8:
        return static_cast<double>(signed_integer(column, bytes));
      case oid::text:
      case oid::varchar:
        return parsed<double>(column, bytes, "a number");
      default:
        throw unreadable(column, "not a number");
    }
  }

 private:
  [[nodiscard]] std::string_view value(int column) const {
    return {PQgetvalue(result_, row_, column),
            static_cast<std::size_t>(PQgetlength(result_, row_, column))};
  }

  [[nodiscard]] error unreadable(int column, std::string_view what) const {
    return error(error_category::database,
                 fmt::format("postgresql: column {} of a result (type {}) is {}", column + 1,
                             PQftype(result_, column), what),
                 "", std::string(backend_name));
  }

  // `bytes`, checked to be as long as its type says.
  std::string_view sized(int column, std::string_view bytes, std::size_t size) const {
    if (bytes.size() != size) {
      throw unreadable(column, fmt::format("{} bytes long, not {}", bytes.size(), size));
    }
    return bytes;
  }

  [[nodiscard]] std::int64_t signed_integer(int column, std::string_view bytes) const {
    switch (bytes.size()) {
      case 2:
        return static_cast<std::int16_t>(big_endian(bytes.data(), 2));
      case 4:
        return static_cast<std::int32_t>(big_endian(bytes.data(), 4));
      default:
        return static_cast<std::int64_t>(big_endian(bytes.data(), sized(column, bytes, 8).size()));
    }
  }

  [[nodiscard]] std::int64_t unix_micros(int column, std::string_view bytes) const {
    const auto since_2000 =
        static_cast<std::int64_t>(big_endian(bytes.data(), sized(column, bytes, 8).size()));
    std::int64_t since_1970 = 0;
    // 'infinity' and '-infinity' are the extremes; the last 30 years before the end of
    // PostgreSQL's range do not fit in microseconds since 1970.
    if (since_2000 == std::numeric_limits<std::int64_t>::max() ||
        since_2000 == std::numeric_limits<std::int64_t>::min() ||
        __builtin_sub_overflow(since_2000, unix_epoch, &since_1970)) {
      throw unreadable(column, "a timestamp beyond microseconds since 1970 (infinity?)");
    }
    return since_1970;
  }

  [[nodiscard]] std::string_view uuid_text(int column, std::string_view bytes) const {
    constexpr std::string_view hex = "0123456789abcdef";
    // Where each byte's two digits go in the 36 characters, between the hyphens.
    constexpr std::array<std::uint8_t, 16> at = {0,  2,  4,  6,  9,  11, 14, 16,
                                                 19, 21, 24, 26, 28, 30, 32, 34};
    constexpr std::size_t uuid_text_size = 36;
    sized(column, bytes, at.size());
    auto& buffer = scratch_[static_cast<std::size_t>(column)];
    buffer[8] = buffer[13] = buffer[18] = buffer[23] = '-';
    for (std::size_t i = 0; i < at.size(); ++i) {
      const auto byte = static_cast<unsigned char>(bytes[i]);
      buffer[at[i]] = hex[byte >> 4U];
      buffer[at[i] + 1] = hex[byte & 0xfU];
    }
    return {buffer.data(), uuid_text_size};
  }

  template <typename T>
  T parsed(int column, std::string_view digits, std::string_view what) const {
    T value{};
    const auto [end, failure] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (failure != std::errc{} || end != digits.data() + digits.size()) {
      throw unreadable(column, fmt::format("not {}: \"{}\"", what, digits));
    }
    return value;
  }

  const PGresult* result_;
  int row_;
  std::vector<std::array<char, 40>>& scratch_;
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
    // A named statement lives on one server connection, which a transaction-mode pooler hands
    // to other clients between transactions: there, every statement is sent unnamed.
    if (!keep || settings_of(native_connection(session_)).pooler == pooler_mode::transaction) {
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
      throw_failure(conn, prepared.get(),
                    pooled_statement_failure(prepared.get(), "preparing a statement"));
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
    const auto& timeout = settings_of(conn).local_statement_timeout;
    const result_ptr result =
        timeout.empty() ? run(conn, texts) : run_with_local_timeout(conn, texts, timeout);
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      throw_failure(conn, result.get(),
                    pooled_statement_failure(result.get(), "running a statement"));
    }
    const int rows = PQntuples(result.get());
    scratch_.resize(static_cast<std::size_t>(PQnfields(result.get())));
    for (int i = 0; i < rows; ++i) {
      row(binary_row(result.get(), i, scratch_));
    }
    // "SELECT 5", "INSERT 0 1", "UPDATE 2": the rows returned or changed.
    std::int64_t counted = 0;
    const std::string_view tuples = PQcmdTuples(result.get());
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), counted);
    return counted;
  }

 private:
  static constexpr int binary = 1;

  // Sends the statement and waits for its result, in one round trip.
  result_ptr run(PGconn* conn, const std::vector<const char*>& texts) const {
    const int count = static_cast<int>(texts.size());
    return result_ptr(name_.empty() ? PQexecParams(conn, sql_.c_str(), count, nullptr, texts.data(),
                                                   nullptr, nullptr, binary)
                                    : PQexecPrepared(conn, name_.c_str(), count, texts.data(),
                                                     nullptr, nullptr, binary));
  }

  // Behind a transaction-mode pooler: the statement runs after setting statement_timeout for
  // the current transaction only (set_config's is_local), both in one pipeline and so in one
  // round trip. Up to the pipeline's sync, the two share a transaction, implicit outside
  // BEGIN, so the pooler keeps them on one server connection and the setting ends with it.
  result_ptr run_with_local_timeout(PGconn* conn, const std::vector<const char*>& texts,
                                    const std::string& timeout) const {
    static constexpr const char* set_timeout = "SELECT set_config('statement_timeout', $1, true)";
    if (PQenterPipelineMode(conn) == 0) {
      throw_failure(conn, nullptr, "running a statement");
    }
    const char* timeout_text = timeout.c_str();
    const int count = static_cast<int>(texts.size());
    const bool sent =
        PQsendQueryParams(conn, set_timeout, 1, nullptr, &timeout_text, nullptr, nullptr, 0) != 0 &&
        (name_.empty() ? PQsendQueryParams(conn, sql_.c_str(), count, nullptr, texts.data(),
                                           nullptr, nullptr, binary)
                       : PQsendQueryPrepared(conn, name_.c_str(), count, texts.data(), nullptr,
                                             nullptr, binary)) != 0 &&
        PQpipelineSync(conn) != 0;
    // The results: set_config's, the statement's (each followed by a null), then the sync's.
    result_ptr setting;
    result_ptr statement;
    for (int query = 0; sent;) {
      result_ptr next(PQgetResult(conn));
      if (next == nullptr) {
        if (PQstatus(conn) == CONNECTION_BAD) {
          break;
        }
        ++query;
        continue;
      }
      if (PQresultStatus(next.get()) == PGRES_PIPELINE_SYNC) {
        break;
      }
      (query == 0 ? setting : statement) = std::move(next);
    }
    PQexitPipelineMode(conn);
    if (setting != nullptr && PQresultStatus(setting.get()) != PGRES_TUPLES_OK) {
      throw_failure(conn, setting.get(), "setting statement_timeout");
    }
    if (statement == nullptr) {
      throw_failure(conn, nullptr, "running a statement");
    }
    return statement;
  }

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
  std::string name_;                           // empty: run once, unnamed
  std::vector<std::array<char, 40>> scratch_;  // binary_row's
};

}  // namespace

std::unique_ptr<native_statement> postgresql_backend::prepare(soci::session& session,
                                                              const std::string& sql,
                                                              std::size_t parameters,
                                                              bool keep) const {
  return std::make_unique<pg_statement>(session, sql, parameters, keep);
}

}  // namespace evstore::postgresql
