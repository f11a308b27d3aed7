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

#include <libpq-events.h>
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
// sends, but never past `until`. No cancel is sent on timeout: a cancel request is a
// connection of its own, which libpq 15 gives no timeout, so against a hung server it can hang
// as well; the caller discards the connection instead.
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

// Frees the connection_settings attached to a PGconn when libpq destroys it.
int settings_event(PGEventId event, void* info, void* /*pass_through*/) {
  if (event == PGEVT_CONNDESTROY) {
    const auto* destroyed = static_cast<PGEventConnDestroy*>(info);
    std::unique_ptr<connection_settings>(
        static_cast<connection_settings*>(PQinstanceData(destroyed->conn, &settings_event)));
  }
  return 1;
}

void attach_settings(PGconn* conn, connection_settings settings) {
  auto owned = std::make_unique<connection_settings>(std::move(settings));
  if (PQregisterEventProc(conn, &settings_event, "evstore settings", nullptr) == 0 ||
      PQsetInstanceData(conn, &settings_event, owned.get()) == 0) {
    throw connection_error("postgresql: cannot attach evstore's settings to a connection", "",
                           "postgresql");
  }
  (void)owned.release();  // libpq owns it now: settings_event frees it
}

// Applies a session setting right after connecting (pooler=session: a session pooler refuses
// startup options but keeps a session's settings while the client stays connected).
void set_session(PGconn* conn, const std::string& statement) {
  PGresult* result = PQexec(conn, statement.c_str());
  const bool done = PQresultStatus(result) == PGRES_COMMAND_OK;
  const std::string why = done ? "" : trimmed(PQresultErrorMessage(result));
  PQclear(result);
  if (!done) {
    throw connection_error(fmt::format("postgresql: applying a session setting: {}", why), "",
                           "postgresql");
  }
}

// The connect failure's text on one line; a pooler's refusal of a startup parameter gets the
// setting that avoids it.
std::string connect_failure(std::string_view what, pooler_mode pooler) {
  std::string why;
  for (const char c : what) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (!space || (!why.empty() && why.back() != ' ')) {
      why += space ? ' ' : c;
    }
  }
  if (!why.empty() && why.back() == ' ') {
    why.pop_back();
  }
  if (pooler == pooler_mode::none &&
      why.find("unsupported startup parameter") != std::string::npos) {
    why += pooler_hint;
  }
  return why;
}

}  // namespace

const connection_settings& settings_of(const PGconn* conn) {
  static const connection_settings defaults;
  const auto* attached =
      static_cast<const connection_settings*>(PQinstanceData(conn, &settings_event));
  return attached != nullptr ? *attached : defaults;
}

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
  // URL's own `options` unless those set it already. A pooler refuses startup options: the
  // setting is then applied after connecting (open()).
  std::string startup_options = url.param("options").value_or("");
  if (options.pooler == pooler_mode::none && options.statement_timeout.count() > 0 &&
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
  if (options.pooler != pooler_mode::none && url.param("options")) {
    throw config_error(fmt::format(
        "postgresql: the URL's options parameter cannot pass a pooler (pooler={}): PgBouncer "
        "refuses the startup parameter options; remove it (evstore applies statement_timeout "
        "itself)",
        to_string(options.pooler)));
  }
  std::unique_ptr<soci::session> session;
  try {
    session = std::make_unique<soci::session>(soci::postgresql, conninfo(url, options));
  } catch (const std::exception& e) {
    // SOCI 4.0.3 reports every connect failure as a plain soci_error, with category unknown
    // and no SQLSTATE, whatever the cause; libpq's text may quote the connection string, so it
    // is redacted.
    throw connection_error(
        redact(fmt::format("postgresql: cannot connect to {}: {}", url.redacted(),
                           connect_failure(e.what(), options.pooler)),
               url.password),
        "", "postgresql");
  }
  PGconn* conn = native_connection(*session);
  PQsetNoticeProcessor(conn, &log_notice, nullptr);
  const auto timeout = std::to_string(options.statement_timeout.count());
  if (options.pooler == pooler_mode::session && options.statement_timeout.count() > 0) {
    set_session(conn, fmt::format("SET statement_timeout = {}", timeout));
  }
  if (options.pooler == pooler_mode::transaction) {
    attach_settings(
        conn, {.pooler = options.pooler,
               .local_statement_timeout = options.statement_timeout.count() > 0 ? timeout : ""});
  }
  return session;
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
