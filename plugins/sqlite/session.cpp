// Opening SQLite sessions and setting each connection up.

#include <chrono>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::sqlite {
namespace {

constexpr std::string_view memory_database = ":memory:";

// SOCI splits a connect string containing '=' into key=value pairs (a quoted value may hold
// spaces but no quote); without '=' it takes the whole string as the file name. So a plain
// path goes as it is, and only a path with '=' needs the quoted db="..." form.
std::string soci_connect_string(const std::string& path) {
  if (path.find('"') != std::string::npos) {
    throw config_error(fmt::format("sqlite: the database path may not contain '\"': {}", path));
  }
  if (path.find('=') == std::string::npos) {
    return path;
  }
  return fmt::format("db=\"{}\"", path);
}

void check_no_params(const database_url& url) {
  if (!url.params.empty()) {
    throw config_error(fmt::format("sqlite: unknown URL parameter \"{}\" (sqlite URLs take none)",
                                   url.params.front().first));
  }
}

// Connection pragmas must be set outside any transaction: PRAGMA foreign_keys inside one is
// a silent no-op.
void configure(soci::session& session, const std::string& path, const connect_options& options) {
  session << fmt::format("PRAGMA busy_timeout = {}", options.busy_timeout.count());
  session << "PRAGMA foreign_keys = ON";
  register_functions(session);
  if (path != memory_database) {
    std::string mode;
    session << "PRAGMA journal_mode = WAL", soci::into(mode);
  }
}

}  // namespace

std::unique_ptr<soci::session> sqlite_backend::open(const database_url& url,
                                                    const connect_options& options) const {
  check_no_params(url);
  if (url.database.empty()) {
    throw config_error("sqlite: the URL names no database file");
  }
  try {
    auto session =
        std::make_unique<soci::session>(soci::sqlite3, soci_connect_string(url.database));
    configure(*session, url.database, options);
    return session;
  } catch (const soci::sqlite3_soci_error& e) {
    throw connection_error(fmt::format("sqlite: cannot open {}: {}", url.database, e.what()),
                           result_code_name(e.result()), "sqlite");
  } catch (const soci::soci_error& e) {
    throw connection_error(fmt::format("sqlite: cannot open {}: {}", url.database, e.what()), "",
                           "sqlite");
  }
}

bool sqlite_backend::single_connection_database(const database_url& url) const {
  return url.database == memory_database;
}

std::string sqlite_backend::server_version(soci::session& session) const {
  try {
    std::string version;
    session << "SELECT sqlite_version()", soci::into(version);
    return version;
  } catch (...) {
    rethrow_translated(std::current_exception(), "reading the SQLite version");
  }
}

// SQLite is a library in this process: SELECT 1 takes no lock and reads no file, so it cannot
// hang on anything the deadline would have to bound.
std::chrono::microseconds sqlite_backend::ping(soci::session& session,
                                               std::chrono::milliseconds /*deadline*/) const {
  const auto start = std::chrono::steady_clock::now();
  try {
    int one = 0;
    session << "SELECT 1", soci::into(one);
  } catch (...) {
    rethrow_translated(std::current_exception(), "ping");
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// sqlite3_interrupt is the one SQLite call made for use from another thread; it is a no-op
// when no statement runs. The statement under way fails with SQLITE_INTERRUPT.
void sqlite_backend::interrupt(soci::session& session) const noexcept {
  if (auto* native = native_connection(session)) {
    sqlite_api::sqlite3_interrupt(native);
  }
}

sqlite_api::sqlite3* native_connection(soci::session& session) {
  auto* native = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
  return native != nullptr ? native->conn_ : nullptr;
}

}  // namespace evstore::sqlite
