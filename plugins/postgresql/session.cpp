// Opening PostgreSQL sessions.

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <system_error>
#include <thread>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <evstore/error.hpp>
#include <evstore/redact.hpp>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

// One `key=value` query parameter of a libpq URI, both sides percent-encoded.
void append(std::string& query, std::string_view keyword, std::string_view value) {
  query += query.empty() ? '?' : '&';
  query += percent_encode(keyword);
  query += '=';
  query += percent_encode(value);
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

PGconn* native_connection(soci::session& session) {
  auto* native = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return native != nullptr ? native->conn_ : nullptr;
}

libpq_host_lists host_lists(const database_url& url) {
  libpq_host_lists lists{url.host, url.port ? std::to_string(*url.port) : std::string()};
  bool any_port = url.port.has_value();
  for (const auto& [host, port] : url.fallback_hosts) {
    lists.hosts += ',' + host;
    lists.ports += ',' + (port ? std::to_string(*port) : std::string());
    any_port = any_port || port.has_value();
  }
  if (!any_port) {
    lists.ports.clear();
  }
  return lists;
}

std::string conninfo(const database_url& url, const connect_options& options) {
  std::string query;
  // Percent-encoded whole: libpq decodes a query value before it splits the list at commas.
  const auto [hosts, ports] = host_lists(url);
  if (!hosts.empty()) {
    append(query, "host", hosts);
  }
  if (!ports.empty()) {
    append(query, "port", ports);
  }
  if (!url.database.empty()) {
    append(query, "dbname", url.database);
  }
  if (!url.user.empty()) {
    append(query, "user", url.user);
  }
  if (!url.password.empty()) {
    append(query, "password", url.password);
  }
  if (!url.param("connect_timeout")) {
    append(query, "connect_timeout", timeout_seconds(options.connect_timeout));
  }
  if (!url.param("application_name")) {
    append(query, "application_name", options.application_name);
  }
  // statement_timeout goes in the startup packet (no round trip of its own), added to the
  // URL's own `options` unless those set it already.
  std::string startup_options = url.param("options").value_or("");
  if (options.statement_timeout.count() > 0 &&
      startup_options.find("statement_timeout") == std::string::npos) {
    startup_options += fmt::format("{}-c statement_timeout={}", startup_options.empty() ? "" : " ",
                                   options.statement_timeout.count());
  }
  for (const auto& [key, value] : url.params) {
    if (key != "options") {
      append(query, key, value);
    }
  }
  if (!startup_options.empty()) {
    append(query, "options", startup_options);
  }
  // Percent-encoded, the URI holds no white space or quote, so SOCI's re-splitting passes it
  // through unchanged; the query is never empty, so SOCI does not append its `=` either.
  return "postgresql://" + query;
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
  PGconn* conn = native_connection(session);
  const auto start = ping_clock::now();
  const auto until = start + deadline;
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
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

void postgresql_backend::interrupt(soci::session& session) const noexcept {
  PGconn* conn = native_connection(session);
  if (conn == nullptr) {
    return;
  }
  // The cancel request is a connection of its own, which a hung or unreachable server leaves
  // hanging (libpq 15's PQcancel has no timeout): it is sent from a detached thread that owns
  // its PGcancel and never touches the session. It spares the server a query nobody waits
  // for; shutting the socket down is what frees the blocked caller, at once.
  if (PGcancel* cancel = PQgetCancel(conn)) {
    try {
      std::thread([cancel] {
        std::array<char, 256> why{};
        if (PQcancel(cancel, why.data(), static_cast<int>(why.size())) == 0) {
          spdlog::debug("postgresql: the cancel request failed: {}", why.data());
        }
        PQfreeCancel(cancel);
      }).detach();
    } catch (const std::system_error& e) {
      PQfreeCancel(cancel);
      spdlog::debug("postgresql: no thread for a cancel request: {}", e.what());
    }
  }
  const int socket = PQsocket(conn);
  if (socket >= 0) {
    ::shutdown(socket, SHUT_RDWR);
  }
}

}  // namespace evstore::postgresql
