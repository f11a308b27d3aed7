// Raw libpq: prepared statements, text mode, COPY (or multi-row INSERTs) for batches; what
// hand-written libpq code does.

#include <libpq-fe.h>

#include <charconv>
#include <set>
#include <stdexcept>

#include <spdlog/fmt/fmt.h>

#include <evstore/redact.hpp>

#include "bench_database.hpp"
#include "contender.hpp"
#include "simple_pool.hpp"
#include "timestamps.hpp"

namespace evstore::bench {
namespace {

std::string event_insert_sql() {
  return fmt::format(
      "INSERT INTO events ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {}",
      event_insert_columns, event_columns);
}

// A column of a result row, as read_event and read_media read it.
class pg_row {
 public:
  pg_row(const PGresult* result, int row) : result_(result), row_(row) {}
  [[nodiscard]] bool null(int column) const { return PQgetisnull(result_, row_, column) != 0; }
  [[nodiscard]] std::string_view text(int column) const {
    return {PQgetvalue(result_, row_, column),
            static_cast<std::size_t>(PQgetlength(result_, row_, column))};
  }
  [[nodiscard]] long long integer(int column) const { return number<long long>(column); }
  [[nodiscard]] double real(int column) const { return number<double>(column); }
  [[nodiscard]] timestamp time(int column) const {
    return parse_postgresql_timestamp(text(column));
  }

 private:
  template <typename T>
  T number(int column) const {
    const auto digits = text(column);
    T value{};
    const auto [end, failure] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (failure != std::errc{} || end != digits.data() + digits.size()) {
      throw std::runtime_error(fmt::format("libpq: not a number: \"{}\"", digits));
    }
    return value;
  }

  const PGresult* result_;
  int row_;
};

struct result_deleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

// A value that is not null in PostgreSQL's text form.
std::string text_of(const sql_value& item) {
  if (const auto* text = std::get_if<std::string>(&item)) {
    return *text;
  }
  if (const auto* integer = std::get_if<long long>(&item)) {
    return std::to_string(*integer);
  }
  if (const auto* real = std::get_if<double>(&item)) {
    return fmt::format("{}", *real);
  }
  return to_postgresql_text(std::get<timestamp>(item));
}

// Text parameters in libpq's form: values (nullptr for NULL) pointing into `texts`.
class parameters {
 public:
  void add(const sql_value& item) {
    const bool null = std::holds_alternative<std::monostate>(item);
    texts_.push_back(null ? std::string() : text_of(item));
    nulls_.push_back(null);
  }
  void add_all(const std::vector<sql_value>& items) {
    for (const auto& item : items) {
      add(item);
    }
  }
  [[nodiscard]] int size() const noexcept { return static_cast<int>(texts_.size()); }
  const char* const* pointers() {
    pointers_.clear();
    for (std::size_t i = 0; i < texts_.size(); ++i) {
      pointers_.push_back(nulls_[i] ? nullptr : texts_[i].c_str());
    }
    return pointers_.data();
  }

 private:
  std::vector<std::string> texts_;
  std::vector<bool> nulls_;
  std::vector<const char*> pointers_;
};

// COPY's text format: backslash, tab, newline and carriage return escaped, \N for NULL.
void append_copy_field(std::string& line, const sql_value& item) {
  if (std::holds_alternative<std::monostate>(item)) {
    line += "\\N";
    return;
  }
  for (const char c : text_of(item)) {
    switch (c) {
      case '\\':
        line += "\\\\";
        break;
      case '\t':
        line += "\\t";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      default:
        line += c;
    }
  }
}

class pg_connection {
 public:
  explicit pg_connection(const database_url& url)
      : password_(url.password), conn_(PQconnectdb(libpq_conninfo(url).c_str())) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      fail("connecting");
    }
    // Timestamps come back as "YYYY-MM-DD HH:MM:SS.ffffff+00", parsed exactly.
    check(result_ptr(PQexec(conn_.get(), "SET TimeZone TO 'UTC'")), PGRES_COMMAND_OK, "SET");
    prepare("create_event", event_insert_sql());
    prepare("get_event", fmt::format("SELECT {} FROM events WHERE id = $1", event_columns));
    prepare(
        "timeline",
        fmt::format("SELECT {} FROM media WHERE event_id = $1 ORDER BY captured_at, id LIMIT {}",
                    media_columns, page_size));
  }

  result_ptr run_prepared(const std::string& name, parameters& values, ExecStatusType expected) {
    return check(result_ptr(PQexecPrepared(conn_.get(), name.c_str(), values.size(),
                                           values.pointers(), nullptr, nullptr, 0)),
                 expected, name);
  }

  void copy_media(const std::vector<new_media>& batch) {
    check(result_ptr(PQexec(
              conn_.get(),
              ("COPY media (" + std::string(media_insert_columns) + ") FROM STDIN").c_str())),
          PGRES_COPY_IN, "COPY");
    std::string data;
    for (const auto& item : batch) {
      bool first = true;
      for (const auto& field : media_values(item)) {
        if (!first) {
          data += '\t';
        }
        first = false;
        append_copy_field(data, field);
      }
      data += '\n';
    }
    if (PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(conn_.get(), nullptr) != 1) {
      fail("sending COPY data");
    }
    check(result_ptr(PQgetResult(conn_.get())), PGRES_COMMAND_OK, "COPY");
    while (result_ptr(PQgetResult(conn_.get()))) {
    }
  }

  // One INSERT of the whole batch, its statement prepared once for each batch size.
  void insert_media(const std::vector<new_media>& batch) {
    const auto name = fmt::format("insert_media_{}", batch.size());
    if (!insert_sizes_.contains(batch.size())) {
      std::string sql = fmt::format("INSERT INTO media ({}) VALUES ", media_insert_columns);
      for (std::size_t row = 0; row < batch.size(); ++row) {
        sql += row == 0 ? "(" : ", (";
        for (std::size_t column = 0; column < insert_column_count; ++column) {
          sql +=
              fmt::format("{}${}", column == 0 ? "" : ", ", row * insert_column_count + column + 1);
        }
        sql += ")";
      }
      prepare(name, sql);
      insert_sizes_.insert(batch.size());
    }
    parameters values;
    for (const auto& item : batch) {
      values.add_all(media_values(item));
    }
    run_prepared(name, values, PGRES_COMMAND_OK);
  }

 private:
  struct connection_deleter {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
  };

  void prepare(const std::string& name, const std::string& sql) {
    check(result_ptr(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr)),
          PGRES_COMMAND_OK, "preparing " + name);
  }

  [[noreturn]] void fail(std::string_view what) const {
    throw std::runtime_error(
        fmt::format("libpq: {}: {}", what, redact(PQerrorMessage(conn_.get()), password_)));
  }

  result_ptr check(result_ptr result, ExecStatusType expected, std::string_view what) const {
    if (!result || PQresultStatus(result.get()) != expected) {
      fail(what);
    }
    return result;
  }

  std::string password_;
  std::unique_ptr<PGconn, connection_deleter> conn_;
  std::set<std::size_t> insert_sizes_;
};

class libpq_contender final : public contender {
 public:
  libpq_contender(const database_url& url, std::size_t connections, bool multi_row_insert)
      : pool_(connections, url), multi_row_insert_(multi_row_insert) {}

  event create_event(const new_event& item) override {
    parameters values;
    values.add_all(event_values(item));
    const auto result = pool_.acquire()->run_prepared("create_event", values, PGRES_TUPLES_OK);
    return read_event(pg_row(result.get(), 0));
  }

  void add_media(const std::vector<new_media>& batch) override {
    auto conn = pool_.acquire();
    if (multi_row_insert_) {
      conn->insert_media(batch);
    } else {
      conn->copy_media(batch);
    }
  }

  std::vector<media> timeline(const uuid& event_id) override {
    parameters values;
    values.add(event_id.to_string());
    const auto result = pool_.acquire()->run_prepared("timeline", values, PGRES_TUPLES_OK);
    std::vector<media> page;
    const int rows = PQntuples(result.get());
    page.reserve(static_cast<std::size_t>(rows));
    for (int row = 0; row < rows; ++row) {
      page.push_back(read_media(pg_row(result.get(), row)));
    }
    return page;
  }

  std::optional<event> get_event(const uuid& id) override {
    parameters values;
    values.add(id.to_string());
    const auto result = pool_.acquire()->run_prepared("get_event", values, PGRES_TUPLES_OK);
    if (PQntuples(result.get()) == 0) {
      return std::nullopt;
    }
    return read_event(pg_row(result.get(), 0));
  }

 private:
  simple_pool<pg_connection> pool_;
  bool multi_row_insert_;
};

}  // namespace

std::unique_ptr<contender> open_libpq_contender(const target& db, std::size_t connections,
                                                bool multi_row_insert) {
  return std::make_unique<libpq_contender>(db.url, connections, multi_row_insert);
}

}  // namespace evstore::bench
