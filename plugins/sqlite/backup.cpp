// Backup and restore through SQLite's online backup API. Copying the file of a database that
// is being written can give a corrupt copy; the backup API copies the pages of one read
// transaction instead, so writers on other connections carry on (in WAL mode they are never
// blocked) and the copy is the database as of one instant.

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace fs = std::filesystem;

namespace evstore::sqlite {
namespace {

constexpr std::string_view memory_database = ":memory:";
// How long to wait for a lock: the busy handler's timeout on each connection, and the whole
// copy's budget when a step still answers busy.
constexpr int busy_timeout_ms = 5000;
constexpr auto copy_budget = std::chrono::seconds(60);

struct closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using database = std::unique_ptr<sqlite3, closer>;

[[noreturn]] void fail(sqlite3* db, int code, std::string_view what) {
  throw_for_result_code(code,
                        fmt::format("sqlite: {}: {}", what,
                                    db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code)));
}

database open_file(const fs::path& file, int flags, std::string_view what) {
  sqlite3* raw = nullptr;
  const int code = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  database db(raw);
  if (code != SQLITE_OK) {
    fail(db.get(), code, fmt::format("{}: cannot open {}", what, file.string()));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

void execute(sqlite3* db, const char* sql, std::string_view what) {
  const int code = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) {
    fail(db, code, what);
  }
}

// Copies every page of `from` into `to` in one step, that is in one read transaction on `from`:
// an incremental copy would restart whenever another connection writes between two steps.
void copy_pages(sqlite3* from, sqlite3* to, std::string_view what) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (backup == nullptr) {
    fail(to, sqlite3_extended_errcode(to), what);
  }
  const auto deadline = std::chrono::steady_clock::now() + copy_budget;
  int step = SQLITE_OK;
  for (;;) {
    step = sqlite3_backup_step(backup, -1);
    const bool busy = step == SQLITE_BUSY || step == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int finish = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) {
    throw_for_result_code(step, fmt::format("sqlite: {}: {}", what, sqlite3_errstr(step)));
  }
  if (finish != SQLITE_OK) {
    fail(to, finish, what);
  }
}

// The text of the first row's first column of `sql`, or empty.
std::string query_text(sqlite3* db, const char* sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  const int code = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, &sqlite3_finalize);
  if (code != SQLITE_OK) {
    fail(db, code, what);
  }
  const int step = sqlite3_step(raw);
  if (step == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(raw, 0);
    return text != nullptr ? std::string(reinterpret_cast<const char*>(text)) : std::string();
  }
  if (step != SQLITE_DONE) {
    fail(db, step, what);
  }
  return {};
}

void check_file_database(const database_url& url, std::string_view action) {
  if (!url.params.empty()) {
    throw config_error(fmt::format("sqlite: unknown URL parameter \"{}\" (sqlite URLs take none)",
                                   url.params.front().first));
  }
  if (url.database.empty()) {
    throw config_error("sqlite: the URL names no database file");
  }
  if (url.database == memory_database) {
    throw config_error(fmt::format(
        "sqlite: cannot {} an in-memory database (sqlite::memory:): it exists only inside the "
        "process that opened it",
        action));
  }
}

// Whether `file` starts with the header every SQLite 3 database file has.
bool has_sqlite_header(const fs::path& file) {
  static constexpr std::string_view header{"SQLite format 3\0", 16};
  std::string start(header.size(), '\0');
  std::ifstream in(file, std::ios::binary);
  return in.read(start.data(), static_cast<std::streamsize>(start.size())) && start == header;
}

}  // namespace

void sqlite_backend::backup(const database_url& url, const fs::path& output) const {
  check_file_database(url, "back up");
  const auto what = fmt::format("backing up {}", url.database);
  std::error_code ignored;
  if (!fs::is_regular_file(url.database, ignored)) {
    throw connection_error(
        fmt::format("sqlite: {}: there is no database file {}", what, url.database),
        "SQLITE_CANTOPEN", "sqlite");
  }
  // Read-write without create: a WAL database may need its shared-memory file set up, which
  // a read-only connection cannot do; nothing is written to it.
  const auto source = open_file(url.database, SQLITE_OPEN_READWRITE, what);
  const auto target = open_file(output, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, what);
  copy_pages(source.get(), target.get(), what);
  // The copy inherits the source's WAL mode; a rollback journal makes it one self-contained
  // file, with no -wal or -shm beside it.
  execute(target.get(), "PRAGMA journal_mode = DELETE", what);
}

void sqlite_backend::restore(const database_url& url, const fs::path& input) const {
  check_file_database(url, "restore into");
  const auto what = fmt::format("restoring {} into {}", input.string(), url.database);
  if (!has_sqlite_header(input)) {
    throw config_error(fmt::format(
        "sqlite: {} is not a SQLite backup: it does not start with the SQLite file header "
        "(was it made by `evstore backup` from a SQLite database?)",
        input.string()));
  }
  const auto source = open_file(input, SQLITE_OPEN_READONLY, what);
  const auto check = query_text(source.get(), "PRAGMA quick_check", what);
  if (check != "ok") {
    throw error(error_category::database,
                fmt::format("sqlite: {}: the backup is damaged: {}", what, check), "SQLITE_CORRUPT",
                "sqlite");
  }
  if (query_text(source.get(),
                 "SELECT name FROM sqlite_master WHERE type = 'table' AND name = "
                 "'evstore_schema_migrations'",
                 what)
          .empty()) {
    throw config_error(fmt::format(
        "sqlite: {} is not an evstore backup: it has no evstore_schema_migrations table",
        input.string()));
  }
  const auto target = open_file(url.database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, what);
  copy_pages(source.get(), target.get(), what);
}

}  // namespace evstore::sqlite
