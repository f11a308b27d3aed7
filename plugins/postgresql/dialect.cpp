// PostgreSQL's SQL dialect.

#include <cctype>
#include <thread>

#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

// The advisory lock key of evstore's migrations ("evstoreM"); per database, like the lock.
constexpr long long migration_lock_key = 0x657673746f72654d;
constexpr auto lock_poll_interval = std::chrono::milliseconds(50);

// Splits on ';' outside of string literals ('...', E'...' with backslash escapes), quoted
// identifiers, comments (-- and nested /* */) and dollar quotes ($$...$$, $tag$...$tag$).
class statement_scanner {
 public:
  explicit statement_scanner(std::string_view script) : script_(script) {}

  std::vector<std::string> split() {
    while (at_ < script_.size()) {
      const char c = script_[at_];
      if (c == ';') {
        finish_statement();
        ++at_;
        start_ = at_;
      } else if (c == '\'') {
        const bool escapes = at_ > 0 && (script_[at_ - 1] == 'E' || script_[at_ - 1] == 'e');
        skip_quoted('\'', escapes);
      } else if (c == '"') {
        skip_quoted('"', false);
      } else if (script_.substr(at_, 2) == "--") {
        const auto end = script_.find('\n', at_);
        at_ = end == std::string_view::npos ? script_.size() : end + 1;
      } else if (script_.substr(at_, 2) == "/*") {
        skip_block_comment();
      } else if (c == '$' && skip_dollar_quote()) {
        has_content_ = true;
      } else {
        has_content_ = has_content_ || std::isspace(static_cast<unsigned char>(c)) == 0;
        ++at_;
      }
    }
    finish_statement();
    return statements_;
  }

 private:
  void finish_statement() {
    if (has_content_) {
      auto statement = script_.substr(start_, at_ - start_);
      while (std::isspace(static_cast<unsigned char>(statement.front())) != 0) {
        statement.remove_prefix(1);
      }
      while (std::isspace(static_cast<unsigned char>(statement.back())) != 0) {
        statement.remove_suffix(1);
      }
      statements_.emplace_back(statement);
    }
    has_content_ = false;
  }

  void skip_quoted(char quote, bool backslash_escapes) {
    has_content_ = true;
    ++at_;
    while (at_ < script_.size()) {
      const char c = script_[at_++];
      if (backslash_escapes && c == '\\') {
        ++at_;
      } else if (c == quote) {
        if (at_ < script_.size() && script_[at_] == quote) {
          ++at_;  // a doubled quote stands for itself
        } else {
          return;
        }
      }
    }
  }

  void skip_block_comment() {
    int depth = 0;
    while (at_ < script_.size()) {
      if (script_.substr(at_, 2) == "/*") {
        ++depth;
        at_ += 2;
      } else if (script_.substr(at_, 2) == "*/") {
        at_ += 2;
        if (--depth == 0) {
          return;
        }
      } else {
        ++at_;
      }
    }
  }

  // At a '$': skips a whole dollar-quoted string and returns true, or returns false when the
  // '$' does not open one (a positional parameter such as $1).
  bool skip_dollar_quote() {
    auto end = at_ + 1;
    while (end < script_.size() &&
           (std::isalnum(static_cast<unsigned char>(script_[end])) != 0 || script_[end] == '_')) {
      ++end;
    }
    if (end >= script_.size() || script_[end] != '$' ||
        std::isdigit(static_cast<unsigned char>(script_[at_ + 1])) != 0) {
      return false;
    }
    const auto tag = script_.substr(at_, end - at_ + 1);
    const auto close = script_.find(tag, end + 1);
    at_ = close == std::string_view::npos ? script_.size() : close + tag.size();
    return true;
  }

  std::string_view script_;
  std::size_t at_ = 0;
  std::size_t start_ = 0;
  bool has_content_ = false;
  std::vector<std::string> statements_;
};

}  // namespace

std::vector<std::string> postgresql_dialect::split_statements(std::string_view script) const {
  return statement_scanner(script).split();
}

std::string postgresql_dialect::begin_write() const {
  return "BEGIN";
}

std::string postgresql_dialect::create_history_table() const {
  return "CREATE TABLE IF NOT EXISTS evstore_schema_migrations ("
         "scope text NOT NULL, version bigint NOT NULL, name text NOT NULL, "
         "checksum text NOT NULL, applied_at timestamptz NOT NULL, execution_ms bigint NOT NULL, "
         "applied_by text NOT NULL, rehashed_from text, PRIMARY KEY (scope, version))";
}

std::string postgresql_dialect::now() const {
  return "now()";
}

std::string postgresql_dialect::timestamp_text(std::string_view column) const {
  return fmt::format(R"(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))", column);
}

std::string postgresql_dialect::table_exists(std::string_view table) const {
  return fmt::format("SELECT CASE WHEN to_regclass('{}') IS NULL THEN 0 ELSE 1 END", table);
}

std::string postgresql_dialect::timestamp_from_micros(std::string_view param) const {
  // Interval input is exact for every year; multiplying an interval goes through float8.
  return fmt::format("(TIMESTAMPTZ 'epoch' + CAST({} || ' microseconds' AS interval))", param);
}

std::string postgresql_dialect::micros_from_timestamp(std::string_view column) const {
  // The column itself: the plugin's statements read results in binary, where a timestamptz is
  // its microseconds, which native_row::integer shifts to the Unix epoch (statements.cpp).
  // The server then formats nothing, where EXTRACT(EPOCH) would compute in numeric.
  return std::string(column);
}

std::string postgresql_dialect::uuid_from_text(std::string_view param) const {
  return fmt::format("CAST({} AS uuid)", param);
}

std::string postgresql_dialect::text_from_uuid(std::string_view column) const {
  // The column itself: sent as 16 bytes and written as text by native_row::text.
  return std::string(column);
}

std::string postgresql_dialect::json_from_text(std::string_view param) const {
  return fmt::format("CAST({} AS jsonb)", param);
}

std::string postgresql_dialect::text_from_json(std::string_view column) const {
  return fmt::format("CAST({} AS text)", column);
}

std::string postgresql_dialect::json_contains(std::string_view column,
                                              std::string_view param) const {
  return fmt::format("{} @> CAST({} AS jsonb)", column, param);
}

std::string postgresql_dialect::contains_ignoring_case(std::string_view column,
                                                       std::string_view param) const {
  // strpos matches literally: no LIKE wildcards to escape.
  return fmt::format("strpos(lower({}), lower({})) > 0", column, param);
}

std::string postgresql_dialect::skip_locked_rows() const {
  return " FOR UPDATE SKIP LOCKED";
}

// Positions are WAL byte offsets. After a synchronous COMMIT its record is written, so the
// write pointer (pg_current_wal_lsn) is past it; with synchronous_commit = off the record may
// only be inserted, so the insert pointer is used, which can be a few bytes further (a page
// header) and then makes a reader wait for the next WAL record, never read too early.
std::string postgresql_dialect::write_position() const {
  return "SELECT pg_wal_lsn_diff(CASE current_setting('synchronous_commit') WHEN 'off' THEN "
         "pg_current_wal_insert_lsn() ELSE pg_current_wal_lsn() END, '0/0')::bigint";
}

std::string postgresql_dialect::replay_position() const {
  return "SELECT COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), -1)::bigint";
}

namespace {

// Polls `function` (pg_try_advisory_lock or pg_try_advisory_xact_lock) on evstore's migration
// key until it answers true or `timeout` passes: polling bounds the wait exactly, whatever
// lock_timeout says.
bool poll_migration_lock(soci::session& session, std::chrono::milliseconds timeout,
                         std::string_view function) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    for (;;) {
      int locked = 0;
      session << fmt::format("SELECT CASE WHEN {}({}) THEN 1 ELSE 0 END", function,
                             migration_lock_key),
          soci::into(locked);
      if (locked != 0) {
        return true;
      }
      if (std::chrono::steady_clock::now() + lock_poll_interval > deadline) {
        return false;
      }
      std::this_thread::sleep_for(lock_poll_interval);
    }
  } catch (...) {
    rethrow_translated_error(std::current_exception(), "taking the migration lock");
  }
}

}  // namespace

bool postgresql_dialect::lock_migrations(soci::session& session,
                                         std::chrono::milliseconds timeout) const {
  // A session lock, released by unlock_migrations or when the session ends (a crashed
  // migrator).
  return poll_migration_lock(session, timeout, "pg_try_advisory_lock");
}

bool postgresql_dialect::lock_migrations_in_transaction(soci::session& session,
                                                        std::chrono::milliseconds timeout) const {
  // Released with the transaction, on whatever server connection a pooler gave it. The same
  // key as the session lock: a direct migrator and a pooled one exclude each other.
  return poll_migration_lock(session, timeout, "pg_try_advisory_xact_lock");
}

void postgresql_dialect::unlock_migrations(soci::session& session) const {
  int released = 0;
  try {
    session << fmt::format("SELECT CASE WHEN pg_advisory_unlock({}) THEN 1 ELSE 0 END",
                           migration_lock_key),
        soci::into(released);
  } catch (...) {
    rethrow_translated_error(std::current_exception(), "releasing the migration lock");
  }
  // False: this session did not hold the lock (the server answers with a WARNING only), so
  // whoever holds it keeps it: a pooler moved the session, or it was released twice.
  if (released == 0) {
    throw migration_error(
        "postgresql: releasing the migration lock: this session did not hold it (behind a "
        "transaction-mode pooler, run migrations through EVSTORE_DIRECT_URL)",
        "", "postgresql");
  }
}

std::optional<std::string> postgresql_dialect::migration_lock_holder(soci::session& session) const {
  // A bigint advisory key shows in pg_locks as classid (high half), objid (low half),
  // objsubid 1.
  const auto high = static_cast<unsigned long long>(migration_lock_key) >> 32;
  const auto low = static_cast<unsigned long long>(migration_lock_key) & 0xFFFFFFFFULL;
  try {
    std::string holder;
    soci::indicator found = soci::i_null;
    session << fmt::format(
        "SELECT format('pid %s, application \"%s\", user %s, connected since %s', a.pid, "
        "a.application_name, a.usename, date_trunc('second', a.backend_start)) "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} "
        "AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database "
        "WHERE datname = current_database())",
        high, low),
        soci::into(holder, found);
    return found == soci::i_ok ? std::optional(holder) : std::nullopt;
  } catch (...) {
    rethrow_translated_error(std::current_exception(), "looking up the migration lock holder");
  }
}

}  // namespace evstore::postgresql
