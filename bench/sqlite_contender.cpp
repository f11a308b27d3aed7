// The raw sqlite3 C API: prepared statements kept per connection, WAL, the same pragmas as
// evstore's SQLite plugin (foreign keys on, a busy timeout), so both do the same work.

#include <sqlite3.h>

#include <stdexcept>

#include <spdlog/fmt/fmt.h>

#include "contender.hpp"
#include "simple_pool.hpp"

namespace evstore::bench {
namespace {

constexpr int busy_timeout_ms = 5000;

// A column of the current row, as read_event and read_media read it.
class sqlite_row {
 public:
  explicit sqlite_row(sqlite3_stmt* statement) : statement_(statement) {}
  [[nodiscard]] bool null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  [[nodiscard]] std::string_view text(int column) const {
    const auto* data = sqlite3_column_text(statement_, column);
    return {reinterpret_cast<const char*>(data),
            static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
  }
  [[nodiscard]] long long integer(int column) const {
    return sqlite3_column_int64(statement_, column);
  }
  [[nodiscard]] double real(int column) const { return sqlite3_column_double(statement_, column); }
  [[nodiscard]] timestamp time(int column) const {
    return timestamp(std::chrono::microseconds(sqlite3_column_int64(statement_, column)));
  }

 private:
  sqlite3_stmt* statement_;
};

class sqlite_connection {
 public:
  // A prepared statement, reset and its bindings cleared after each use.
  class statement {
   public:
    statement(sqlite_connection& owner, const std::string& sql) : owner_(owner) {
      sqlite3_stmt* prepared = nullptr;
      if (sqlite3_prepare_v3(owner.db_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &prepared,
                             nullptr) != SQLITE_OK) {
        owner.fail("preparing " + sql);
      }
      statement_.reset(prepared);
    }
    void bind(const std::vector<sql_value>& values) {
      int index = 1;
      for (const auto& item : values) {
        bind(index++, item);
      }
    }
    void bind(int index, const sql_value& item) {
      auto* s = statement_.get();
      int status = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(item)) {
        status = sqlite3_bind_null(s, index);
      } else if (const auto* text = std::get_if<std::string>(&item)) {
        status = sqlite3_bind_text(s, index, text->data(), static_cast<int>(text->size()),
                                   SQLITE_TRANSIENT);
      } else if (const auto* integer = std::get_if<long long>(&item)) {
        status = sqlite3_bind_int64(s, index, *integer);
      } else if (const auto* real = std::get_if<double>(&item)) {
        status = sqlite3_bind_double(s, index, *real);
      } else {
        status = sqlite3_bind_int64(s, index, std::get<timestamp>(item).time_since_epoch().count());
      }
      if (status != SQLITE_OK) {
        owner_.fail("binding");
      }
    }
    // Steps once: true with a row, false when done.
    bool step() {
      const int status = sqlite3_step(statement_.get());
      if (status == SQLITE_ROW) {
        return true;
      }
      if (status != SQLITE_DONE) {
        const auto message = fmt::format("{}", sqlite3_errmsg(owner_.db_.get()));
        done();
        throw std::runtime_error("sqlite: " + message);
      }
      return false;
    }
    void done() {
      sqlite3_reset(statement_.get());
      sqlite3_clear_bindings(statement_.get());
    }
    [[nodiscard]] sqlite_row row() const { return sqlite_row(statement_.get()); }

   private:
    struct deleter {
      void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
    };
    sqlite_connection& owner_;
    std::unique_ptr<sqlite3_stmt, deleter> statement_;
  };

  explicit sqlite_connection(const std::string& path) {
    sqlite3* db = nullptr;
    const int opened =
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(db);
    if (opened != SQLITE_OK) {
      fail("opening " + path);
    }
    execute(fmt::format("PRAGMA busy_timeout = {}", busy_timeout_ms));
    execute("PRAGMA foreign_keys = ON");
    execute("PRAGMA journal_mode = WAL");
    create_event.emplace(*this, fmt::format("INSERT INTO events ({}) VALUES "
                                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {}",
                                            event_insert_columns, event_columns));
    get_event.emplace(*this, fmt::format("SELECT {} FROM events WHERE id = ?", event_columns));
    timeline.emplace(*this, fmt::format("SELECT {} FROM media WHERE event_id = ? "
                                        "ORDER BY captured_at, id LIMIT {}",
                                        media_columns, page_size));
    insert_media.emplace(*this, fmt::format("INSERT INTO media ({}) VALUES "
                                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                            media_insert_columns));
    begin.emplace(*this, "BEGIN IMMEDIATE");
    commit.emplace(*this, "COMMIT");
  }

  void execute(const std::string& sql) {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      fail(sql);
    }
  }

  [[noreturn]] void fail(std::string_view what) const {
    throw std::runtime_error(fmt::format("sqlite: {}: {}", what, sqlite3_errmsg(db_.get())));
  }

  std::optional<statement> create_event, get_event, timeline, insert_media, begin, commit;

 private:
  struct deleter {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, deleter> db_;
};

// Runs a statement that returns no rows.
void run(sqlite_connection::statement& s) {
  s.step();
  s.done();
}

class sqlite_contender final : public contender {
 public:
  sqlite_contender(const std::string& path, std::size_t connections) : pool_(connections, path) {}

  event create_event(const new_event& item) override {
    auto conn = pool_.acquire();
    auto& s = *conn->create_event;
    s.bind(event_values(item));
    if (!s.step()) {
      s.done();
      throw std::runtime_error("sqlite: INSERT ... RETURNING returned no row");
    }
    auto created = read_event(s.row());
    // Stepping to the end completes the statement and so its implicit transaction.
    while (s.step()) {
    }
    s.done();
    return created;
  }

  void add_media(const std::vector<new_media>& batch) override {
    auto conn = pool_.acquire();
    run(*conn->begin);
    try {
      for (const auto& item : batch) {
        conn->insert_media->bind(media_values(item));
        run(*conn->insert_media);
      }
      run(*conn->commit);
    } catch (...) {
      conn->execute("ROLLBACK");
      throw;
    }
  }

  std::vector<media> timeline(const uuid& event_id) override {
    auto conn = pool_.acquire();
    auto& s = *conn->timeline;
    s.bind(1, event_id.to_string());
    std::vector<media> page;
    page.reserve(page_size);
    while (s.step()) {
      page.push_back(read_media(s.row()));
    }
    s.done();
    return page;
  }

  std::optional<event> get_event(const uuid& id) override {
    auto conn = pool_.acquire();
    auto& s = *conn->get_event;
    s.bind(1, id.to_string());
    std::optional<event> found;
    if (s.step()) {
      found = read_event(s.row());
    }
    s.done();
    return found;
  }

 private:
  simple_pool<sqlite_connection> pool_;
};

}  // namespace

std::unique_ptr<contender> open_sqlite_contender(const target& db, std::size_t connections) {
  return std::make_unique<sqlite_contender>(db.url.database, connections);
}

}  // namespace evstore::bench
