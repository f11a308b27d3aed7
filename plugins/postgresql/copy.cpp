// The bulk insert fast path: COPY ... FROM STDIN in text format, on the native PGconn. SOCI
// 4.0.3's vector binds still execute the statement once per row, one round trip each.

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

// Sent to the server in pieces of this size, so that the buffer stays bounded.
constexpr std::size_t copy_chunk = 1 << 20;

// The bytes COPY's text format escapes: a backslash, a tab (column separator), a newline (row
// separator) and a carriage return, each as a backslash and a letter; everything else is taken
// byte for byte.
constexpr std::array<char, 256> copy_escapes = [] {
  std::array<char, 256> table{};
  table['\\'] = '\\';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\r'] = 'r';
  return table;
}();

// Whether any of the eight bytes of `word` may need escaping: a byte below 0x0e (tab,
// newline and carriage return are among them) or a backslash. Each test is the classic
// "has a byte less than n" on the word, exact for whether such a byte is there at all.
bool may_need_escaping(std::uint64_t word) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t highs = 0x8080808080808080;
  const std::uint64_t backslashes = word ^ (ones * '\\');  // zero where a byte is '\\'
  return ((((word - ones * 0x0e) & ~word) | ((backslashes - ones) & ~backslashes)) & highs) != 0;
}

// Appends `value` escaped: in runs between the bytes to escape (most values have none),
// skipping eight bytes at a time where none may need it.
void append_escaped(std::string& out, const std::string& value) {
  std::size_t written = 0;
  std::size_t i = 0;
  while (i < value.size()) {
    if (i + sizeof(std::uint64_t) <= value.size()) {
      std::uint64_t word = 0;
      std::memcpy(&word, value.data() + i, sizeof word);
      if (!may_need_escaping(word)) {
        i += sizeof word;
        continue;
      }
    }
    const char letter = copy_escapes[static_cast<unsigned char>(value[i])];
    if (letter != 0) {
      out.append(value, written, i - written);
      out += '\\';
      out += letter;
      written = i + 1;
    }
    ++i;
  }
  out.append(value, written);
}

// Writes `value` as `width` decimal digits, zero-padded, at `at`.
void put_digits(char* at, std::int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// ISO-8601 in UTC with microseconds, as timestamptz reads it. A bulk insert writes three per
// row, so the years 0 to 9999 are written digit by digit; others go through fmt.
void append_timestamp(std::string& out, std::int64_t micros) {
  using namespace std::chrono;
  const sys_time<microseconds> at{microseconds(micros)};
  const auto day = floor<days>(at);
  const year_month_day date(day);
  const hh_mm_ss<microseconds> time(at - day);
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) {
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", year,
                   static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                   time.hours().count(), time.minutes().count(), time.seconds().count(),
                   time.subseconds().count());
    return;
  }
  std::array<char, 29> text{};  // YYYY-MM-DD HH:MM:SS.ffffff+00
  put_digits(&text[0], year, 4);
  text[4] = '-';
  put_digits(&text[5], static_cast<unsigned>(date.month()), 2);
  text[7] = '-';
  put_digits(&text[8], static_cast<unsigned>(date.day()), 2);
  text[10] = ' ';
  put_digits(&text[11], time.hours().count(), 2);
  text[13] = ':';
  put_digits(&text[14], time.minutes().count(), 2);
  text[16] = ':';
  put_digits(&text[17], time.seconds().count(), 2);
  text[19] = '.';
  put_digits(&text[20], time.subseconds().count(), 6);
  text[26] = '+';
  text[27] = '0';
  text[28] = '0';
  out.append(text.data(), text.size());
}

// The text of the instant a column had in the row before: created_at and updated_at are the
// same in every row of a bulk insert, so each is written once.
struct instant_text {
  std::int64_t micros = 0;
  std::string text;  // empty until the column's first instant
};

void append_value(std::string& out, const bulk_value& value, bulk_type type, instant_text& last) {
  if (std::holds_alternative<std::monostate>(value)) {
    out += "\\N";
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    append_escaped(out, *text);
  } else if (type == bulk_type::instant) {
    const auto micros = std::get<std::int64_t>(value);
    if (last.text.empty() || last.micros != micros) {
      last.text.clear();
      append_timestamp(last.text, micros);
      last.micros = micros;
    }
    out += last.text;
  } else {
    std::array<char, 24> digits{};
    const auto written =
        std::to_chars(digits.data(), digits.data() + digits.size(), std::get<std::int64_t>(value));
    out.append(digits.data(), written.ptr);
  }
}

[[noreturn]] void throw_connection_lost(PGconn* conn, std::string_view table) {
  throw connection_error(
      fmt::format("postgresql: copying rows into {}: {}", table, trimmed(PQerrorMessage(conn))), "",
      "postgresql");
}

// Reads every pending result; throws the first failure, mapped by its SQLSTATE.
void finish(PGconn* conn, std::string_view table, ExecStatusType expected) {
  std::string sqlstate;
  std::string message;
  bool failed = false;
  while (PGresult* result = PQgetResult(conn)) {
    if (!failed && PQresultStatus(result) != expected) {
      failed = true;
      const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      sqlstate = code != nullptr ? code : "";
      message = trimmed(PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  if (failed) {
    if (PQstatus(conn) == CONNECTION_BAD) {
      throw_connection_lost(conn, table);
    }
    throw_for_sqlstate(sqlstate,
                       fmt::format("postgresql: copying rows into {}: {}", table, message));
  }
}

}  // namespace

bool postgresql_backend::copy_rows(soci::session& session, std::string_view table,
                                   std::span<const bulk_column> columns,
                                   std::span<const bulk_value> values) const {
  PGconn* conn = native_connection(session);
  // Behind a transaction-mode pooler, statement_timeout is set for this transaction in the
  // same round trip (copy_rows runs inside a transaction).
  const auto& timeout = settings_of(conn).local_statement_timeout;
  std::string command =
      timeout.empty() ? std::string() : fmt::format("SET LOCAL statement_timeout = {}; ", timeout);
  command += fmt::format("COPY \"{}\" (", table);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    command += fmt::format("{}\"{}\"", i == 0 ? "" : ", ", columns[i].name);
  }
  command += ") FROM STDIN";
  if (PQsendQuery(conn, command.c_str()) != 1) {
    throw_connection_lost(conn, table);
  }
  PGresult* started = PQgetResult(conn);
  if (!timeout.empty() && started != nullptr && PQresultStatus(started) == PGRES_COMMAND_OK) {
    PQclear(started);
    started = PQgetResult(conn);
  }
  const bool copying = started != nullptr && PQresultStatus(started) == PGRES_COPY_IN;
  if (!copying) {
    // Not in COPY state: the error (e.g. a failed transaction) is in this result.
    const char* code = started != nullptr ? PQresultErrorField(started, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = code != nullptr ? code : "";
    const std::string message =
        trimmed(started != nullptr ? PQresultErrorMessage(started) : PQerrorMessage(conn));
    PQclear(started);
    finish(conn, table, PGRES_COMMAND_OK);
    throw_for_sqlstate(sqlstate,
                       fmt::format("postgresql: copying rows into {}: {}", table, message));
  }
  PQclear(started);

  std::string buffer;
  buffer.reserve(copy_chunk + copy_chunk / 4);
  const auto send = [&] {
    if (PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
      throw_connection_lost(conn, table);
    }
    buffer.clear();
  };
  std::vector<instant_text> last(columns.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto column = i % columns.size();
    if (column != 0) {
      buffer += '\t';
    }
    append_value(buffer, values[i], columns[column].type, last[column]);
    if (column + 1 == columns.size()) {
      buffer += '\n';
      if (buffer.size() >= copy_chunk) {
        send();
      }
    }
  }
  if (!buffer.empty()) {
    send();
  }
  if (PQputCopyEnd(conn, nullptr) != 1) {
    throw_connection_lost(conn, table);
  }
  finish(conn, table, PGRES_COMMAND_OK);
  return true;
}

}  // namespace evstore::postgresql
