// Opening PostgreSQL sessions.

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <evstore/error.hpp>
#include <evstore/redact.hpp>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

// libpq's quoting for a keyword=value connection string: single quotes, with backslash and
// quote escaped by a backslash.
std::string quote(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\\' || c == '\'') {
      out += '\\';
    }
    out += c;
  }
  out += '\'';
  return out;
}

void append(std::string& info, std::string_view keyword, std::string_view value) {
  if (!info.empty()) {
    info += ' ';
  }
  info += keyword;
  info += '=';
  info += quote(value);
}

// libpq takes whole seconds and treats 1 as 2; round up so a short timeout is never zero
// (which would mean "wait forever").
std::string timeout_seconds(std::chrono::milliseconds timeout) {
  const auto seconds = (timeout.count() + 999) / 1000;
  return std::to_string(std::max<long long>(seconds, 1));
}

// libpq prints NOTICEs (e.g. "relation already exists, skipping") on stderr by default;
// they belong in the log, at debug level.
void log_notice(void*, const char* message) {
  std::string_view text(message);
  while (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  spdlog::debug("postgresql: {}", text);
}

using ping_clock = std::chrono::steady_clock;

[[noreturn]] void throw_connection_lost(PGconn* conn, std::string_view doing) {
  throw connection_error(
      fmt::format("postgresql: ping: {}: {}", doing, trimmed(PQerrorMessage(conn))), "",
      "postgresql");
}

// Waits until libpq has a whole result to give (PQisBusy false), reading what the server
// sends, but never past `until`. No cancel is sent on timeout: a cancel to a hung server can
// hang as well (PITFALLS.md); the caller discards the connection instead.
void await_result(PGconn* conn, ping_clock::time_point until, std::chrono::milliseconds deadline) {
  while (PQisBusy(conn) != 0) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - ping_clock::now());
    if (left <= std::chrono::milliseconds::zero()) {
      throw timeout_error(fmt::format("postgresql: ping: no answer from the server within {} ms",
                                      deadline.count()));
    }
    pollfd ready{PQsocket(conn), POLLIN, 0};
    const int polled = poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno != EINTR) {
      throw connection_error(fmt::format("postgresql: ping: poll failed: {}", std::strerror(errno)),
                             "", "postgresql");
    }
    if (polled > 0 && PQconsumeInput(conn) == 0) {
      throw_connection_lost(conn, "reading the answer");
    }
  }
}

}  // namespace

std::string conninfo(const database_url& url, const connect_options& options) {
  std::string info;
  if (!url.host.empty()) {
    append(info, "host", url.host);
  }
  if (url.port) {
    append(info, "port", std::to_string(*url.port));
  }
  if (!url.database.empty()) {
    append(info, "dbname", url.database);
  }
  if (!url.user.empty()) {
    append(info, "user", url.user);
  }
  if (!url.password.empty()) {
    append(info, "password", url.password);
  }
  if (!url.param("connect_timeout")) {
    append(info, "connect_timeout", timeout_seconds(options.connect_timeout));
  }
  if (!url.param("application_name")) {
    append(info, "application_name", options.application_name);
  }
  for (const auto& [key, value] : url.params) {
    append(info, key, value);
  }
  return info;
}

std::unique_ptr<soci::session> postgresql_backend::open(const database_url& url,
                                                        const connect_options& options) const {
  try {
    auto session = std::make_unique<soci::session>(soci::postgresql, conninfo(url, options));
    auto* native = static_cast<soci::postgresql_session_backend*>(session->get_backend());
    PQsetNoticeProcessor(native->conn_, &log_notice, nullptr);
    return session;
  } catch (const std::exception& e) {
    // SOCI reports every connect failure as a plain soci_error without SQLSTATE (PITFALLS.md);
    // libpq's text may quote the connection string, so it is redacted.
    std::string why;
    for (const char c : std::string_view(e.what())) {
      const bool space = c == '\n' || c == '\t' || c == ' ';
      if (!space || (!why.empty() && why.back() != ' ')) {
        why += space ? ' ' : c;
      }
    }
    if (!why.empty() && why.back() == ' ') {
      why.pop_back();
    }
    throw connection_error(
        redact(fmt::format("postgresql: cannot connect to {}: {}", url.redacted(), why),
               url.password),
        "", "postgresql");
  }
}

bool postgresql_backend::single_connection_database(const database_url&) const {
  return false;
}

std::string postgresql_backend::server_version(soci::session& session) const {
  try {
    std::string version;
    session << "SHOW server_version", soci::into(version);
    return version;
  } catch (...) {
    rethrow_translated(std::current_exception(), "reading the server version");
  }
}

std::chrono::microseconds postgresql_backend::ping(soci::session& session,
                                                   std::chrono::milliseconds deadline) const {
  // Through the native handle: SOCI's statements block without a deadline.
  auto* conn = static_cast<soci::postgresql_session_backend*>(session.get_backend())->conn_;
  const auto start = ping_clock::now();
  const auto until = start + deadline;
  if (PQstatus(conn) != CONNECTION_OK) {
    throw connection_error("postgresql: ping: the connection is broken", "", "postgresql");
  }
  if (PQsendQuery(conn, "SELECT 1") == 0) {
    throw_connection_lost(conn, "sending the query");
  }
  std::string sqlstate;
  std::string message;
  bool failed = false;
  for (;;) {
    await_result(conn, until, deadline);
    PGresult* result = PQgetResult(conn);
    if (result == nullptr) {
      break;
    }
    if (PQresultStatus(result) != PGRES_TUPLES_OK && !failed) {
      failed = true;
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      sqlstate = state != nullptr ? state : "";
      message = trimmed(PQresultErrorMessage(result));
    }
    PQclear(result);
  }
  const auto took =
      std::chrono::duration_cast<std::chrono::microseconds>(ping_clock::now() - start);
  if (PQstatus(conn) != CONNECTION_OK) {
    throw_connection_lost(conn, "the connection was lost");
  }
  if (failed) {
    throw_for_sqlstate(sqlstate, fmt::format("postgresql: ping: {}", message));
  }
  return took;
}

}  // namespace evstore::postgresql
