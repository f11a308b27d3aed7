#include "evstore/connection.hpp"

#include <utility>

#include <soci/soci.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "evstore/native_statements.hpp"
#include "statement_cache.hpp"

namespace evstore {

connection connection::open(const plugin_registry& plugins, const database_url& url,
                            const connect_options& options) {
  auto backend = plugins.plugin_for(url.scheme).backend;
  auto session = backend->open(url, options);
  return connection(std::move(backend), std::move(session), options.statement_cache_size);
}

connection::connection(std::shared_ptr<const evstore::backend> backend,
                       std::unique_ptr<soci::session> session, std::size_t statement_cache_size)
    : backend_(std::move(backend)),
      session_(std::move(session)),
      statements_(std::make_unique<detail::statement_cache>(
          statement_cache_size, dynamic_cast<const native_statements*>(backend_.get()))) {}

connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    backend_ = std::move(other.backend_);
    session_ = std::move(other.session_);
    statements_ = std::move(other.statements_);
    query_log_ = other.query_log_;
  }
  return *this;
}

// The session is closed before the backend (and its plugin) may go: members are destroyed in
// reverse order of declaration.
connection::~connection() {
  close();
}

void connection::close() noexcept {
  if (session_) {
    // The server connection goes first, so that destroying the kept statements never waits
    // for a server that may be hung.
    backend_->close_now(*session_);
  }
  statements_.reset();
  session_.reset();
}

statement_cache_metrics connection::statement_cache() const noexcept {
  return statements_ ? statements_->metrics() : statement_cache_metrics{};
}

std::string connection::backend_name() const {
  return backend_->name();
}

std::string connection::server_version() {
  return backend_->server_version(*session_);
}

void connection::execute(const std::string& sql) {
  const auto start = std::chrono::steady_clock::now();
  try {
    *session_ << sql;
  } catch (...) {
    backend_->rethrow_translated(std::current_exception(), "executing a statement");
  }
  log_statement(sql, std::chrono::steady_clock::now() - start, -1,
                [](bool) { return std::string("no parameters"); });
}

void connection::log_statement(std::string_view sql, std::chrono::steady_clock::duration took,
                               long long rows,
                               const std::function<std::string(bool)>& parameters) const {
  const double ms = std::chrono::duration<double, std::milli>(took).count();
  const auto threshold = query_log_.slow_threshold;
  const bool slow = threshold.count() > 0 && took >= threshold;
  if (!slow && !(query_log_.enabled && spdlog::should_log(spdlog::level::debug))) {
    return;
  }
  const auto rows_text = rows < 0 ? std::string() : fmt::format(", {} row(s)", rows);
  const auto line =
      fmt::format("{:.3f} ms{} [{}]: {}", ms, rows_text, parameters(query_log_.parameters), sql);
  if (slow) {
    spdlog::warn("slow query ({} ms or more) on {}: {}", threshold.count(), backend_->name(), line);
  } else {
    spdlog::debug("query on {}: {}", backend_->name(), line);
  }
}

std::chrono::microseconds connection::ping() {
  const auto start = std::chrono::steady_clock::now();
  try {
    int one = 0;
    *session_ << "SELECT 1", soci::into(one);
  } catch (...) {
    backend_->rethrow_translated(std::current_exception(), "ping");
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

}  // namespace evstore
