// Plain SOCI, for reference: statements prepared once per session and re-executed with
// scalar bindings, rows read one by one into scalars (its vector reads of SQLite integers
// are 32-bit), batches inserted with vector bindings in a statement made for each batch
// (SOCI 4.0.3 re-sends the first batch's freed buffers when a vector-bound statement is
// executed again, SOCI issues #910 and #1167).

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <array>
#include <charconv>
#include <stdexcept>

#include <spdlog/fmt/fmt.h>

#include "bench_database.hpp"
#include "contender.hpp"
#include "timestamps.hpp"

namespace evstore::bench {
namespace {

// What a column holds: t text, i integer, r real, T timestamp (text on PostgreSQL, integer
// microseconds on SQLite).
constexpr std::string_view event_column_types = "ttttTTtrrtTTi";
constexpr std::string_view media_column_types = "tttttitTttTT";
constexpr std::string_view event_insert_types = "ttttTTtrrt";
constexpr std::string_view media_insert_types = "tttttitTtt";
constexpr std::size_t max_columns = 13;

// Scalars bound into or used by a statement, one per column, of the type `types` names.
class scalar_slots {
 public:
  scalar_slots(std::string_view types, bool text_times) : types_(types), text_times_(text_times) {}

  // Binds each slot with bind(statement, variable, indicator), which exchanges soci::into or
  // soci::use in one expression: soci::use keeps a reference to a temporary name.
  template <typename Bind>
  void exchange(soci::statement& statement, Bind bind) {
    for (std::size_t i = 0; i < types_.size(); ++i) {
      if (types_[i] == 'i' || (types_[i] == 'T' && !text_times_)) {
        bind(statement, integers_.at(i), nulls_.at(i));
      } else if (types_[i] == 'r') {
        bind(statement, reals_.at(i), nulls_.at(i));
      } else {
        bind(statement, texts_.at(i), nulls_.at(i));
      }
    }
  }

  // As read_event and read_media read a row.
  [[nodiscard]] bool null(int column) const { return nulls_.at(at(column)) == soci::i_null; }
  [[nodiscard]] std::string_view text(int column) const { return texts_.at(at(column)); }
  [[nodiscard]] long long integer(int column) const { return integers_.at(at(column)); }
  [[nodiscard]] double real(int column) const { return reals_.at(at(column)); }
  [[nodiscard]] timestamp time(int column) const {
    return text_times_ ? parse_postgresql_timestamp(texts_.at(at(column)))
                       : timestamp(std::chrono::microseconds(integers_.at(at(column))));
  }

  void set(const std::vector<sql_value>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      set(i, values[i]);
    }
  }

  void set(std::size_t i, const sql_value& item) {
    nulls_.at(i) = soci::i_ok;
    if (std::holds_alternative<std::monostate>(item)) {
      nulls_.at(i) = soci::i_null;
    } else if (const auto* text = std::get_if<std::string>(&item)) {
      texts_.at(i) = *text;
    } else if (const auto* integer = std::get_if<long long>(&item)) {
      integers_.at(i) = *integer;
    } else if (const auto* real = std::get_if<double>(&item)) {
      reals_.at(i) = *real;
    } else if (text_times_) {
      texts_.at(i) = to_postgresql_text(std::get<timestamp>(item));
    } else {
      integers_.at(i) = std::get<timestamp>(item).time_since_epoch().count();
    }
  }

 private:
  static std::size_t at(int column) { return static_cast<std::size_t>(column); }

  std::string_view types_;
  bool text_times_;
  std::array<std::string, max_columns> texts_{};
  std::array<long long, max_columns> integers_{};
  std::array<double, max_columns> reals_{};
  std::array<soci::indicator, max_columns> nulls_{};
};

// A prepared statement with its bound parameters and result row.
struct prepared {
  prepared(soci::session& session, const std::string& sql, std::string_view parameter_types,
           std::string_view row_types, bool text_times)
      : parameters(parameter_types, text_times), row(row_types, text_times), statement(session) {
    row.exchange(statement, [](soci::statement& s, auto& item, soci::indicator& null) {
      s.exchange(soci::into(item, null));
    });
    parameters.exchange(statement, [](soci::statement& s, auto& item, soci::indicator& null) {
      s.exchange(soci::use(item, null));
    });
    statement.alloc();
    statement.prepare(sql);
    statement.define_and_bind();
  }
  scalar_slots parameters;
  scalar_slots row;
  soci::statement statement;
};

// A session's prepared statements.
struct session_statements {
  session_statements(soci::session& session, bool text_times)
      : create_event(session,
                     fmt::format("INSERT INTO events ({}) VALUES (:id, :title, :description, "
                                 ":status, :start_time, :end_time, :location_name, :latitude, "
                                 ":longitude, :metadata) RETURNING {}",
                                 event_insert_columns, event_columns),
                     event_insert_types, event_column_types, text_times),
        get_event(session, fmt::format("SELECT {} FROM events WHERE id = :id", event_columns), "t",
                  event_column_types, text_times),
        timeline(session,
                 fmt::format("SELECT {} FROM media WHERE event_id = :event_id "
                             "ORDER BY captured_at, id LIMIT {}",
                             media_columns, page_size),
                 "t", media_column_types, text_times) {}
  prepared create_event, get_event, timeline;
};

class soci_contender final : public contender {
 public:
  soci_contender(const target& db, std::size_t connections)
      : text_times_(db.kind == backend_kind::postgresql), pool_(connections) {
    for (std::size_t i = 0; i < connections; ++i) {
      auto& session = pool_.at(i);
      if (text_times_) {
        session.open(soci::postgresql, libpq_conninfo(db.url));
        session << "SET TimeZone TO 'UTC'";
      } else {
        session.open(soci::sqlite3, db.url.database);
        session << "PRAGMA busy_timeout = 5000";
        session << "PRAGMA foreign_keys = ON";
        session << "PRAGMA journal_mode = WAL";
      }
      statements_.push_back(std::make_unique<session_statements>(session, text_times_));
    }
  }

  event create_event(const new_event& item) override {
    const lease held(pool_);
    auto& s = statements_[held.index]->create_event;
    s.parameters.set(event_values(item));
    if (!s.statement.execute(true)) {
      throw std::runtime_error("soci: INSERT ... RETURNING returned no row");
    }
    auto created = read_event(s.row);
    // Fetching to the end completes the statement (on SQLite, its implicit transaction).
    while (s.statement.fetch()) {
    }
    return created;
  }

  void add_media(const std::vector<new_media>& batch) override {
    const lease held(pool_);
    auto& session = pool_.at(held.index);
    std::array<std::vector<std::string>, insert_column_count> texts;
    std::array<std::vector<long long>, insert_column_count> integers;
    for (const auto& item : batch) {
      const auto values = media_values(item);
      for (std::size_t i = 0; i < insert_column_count; ++i) {
        if (media_insert_types[i] == 'i' || (media_insert_types[i] == 'T' && !text_times_)) {
          integers[i].push_back(std::holds_alternative<long long>(values[i])
                                    ? std::get<long long>(values[i])
                                    : std::get<timestamp>(values[i]).time_since_epoch().count());
        } else if (media_insert_types[i] == 'T') {
          texts[i].push_back(to_postgresql_text(std::get<timestamp>(values[i])));
        } else {
          texts[i].push_back(std::get<std::string>(values[i]));
        }
      }
    }
    soci::transaction transaction(session);
    soci::statement statement(session);
    for (std::size_t i = 0; i < insert_column_count; ++i) {
      if (integers[i].empty()) {
        statement.exchange(soci::use(texts[i]));
      } else {
        statement.exchange(soci::use(integers[i]));
      }
    }
    statement.alloc();
    statement.prepare(
        fmt::format("INSERT INTO media ({}) VALUES (:id, :event_id, :kind, :uri, "
                    ":mime_type, :size_bytes, :checksum, :captured_at, :status, "
                    ":metadata)",
                    media_insert_columns));
    statement.define_and_bind();
    statement.execute(true);
    transaction.commit();
  }

  std::vector<media> timeline(const uuid& event_id) override {
    const lease held(pool_);
    auto& s = statements_[held.index]->timeline;
    s.parameters.set(0, event_id.to_string());
    std::vector<media> page;
    page.reserve(page_size);
    if (s.statement.execute(true)) {
      do {
        page.push_back(read_media(s.row));
      } while (s.statement.fetch());
    }
    return page;
  }

  std::optional<event> get_event(const uuid& id) override {
    const lease held(pool_);
    auto& s = statements_[held.index]->get_event;
    s.parameters.set(0, id.to_string());
    std::optional<event> found;
    if (s.statement.execute(true)) {
      found = read_event(s.row);
      while (s.statement.fetch()) {
      }
    }
    return found;
  }

 private:
  // soci::connection_pool hands out session indexes; the statements are kept per index.
  struct lease {
    explicit lease(soci::connection_pool& pool) : pool_(pool), index(pool.lease()) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { pool_.give_back(index); }
    soci::connection_pool& pool_;
    std::size_t index;
  };

  bool text_times_;
  soci::connection_pool pool_;
  std::vector<std::unique_ptr<session_statements>> statements_;
};

}  // namespace

std::unique_ptr<contender> open_soci_contender(const target& db, std::size_t connections) {
  return std::make_unique<soci_contender>(db, connections);
}

}  // namespace evstore::bench
