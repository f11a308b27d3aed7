#include "evstore/backend.hpp"

#include <spdlog/fmt/fmt.h>

#include "evstore/dialect.hpp"
#include "evstore/error.hpp"
#include "evstore/native_statements.hpp"

namespace evstore {

// Out of line, so that the vtable and type_info of backend live once, in libevstore.
backend::~backend() = default;
dialect::~dialect() = default;
native_statement::~native_statement() = default;
native_statements::~native_statements() = default;

const char* to_string(pooler_mode mode) noexcept {
  switch (mode) {
    case pooler_mode::none:
      return "none";
    case pooler_mode::session:
      return "session";
    case pooler_mode::transaction:
      return "transaction";
  }
  return "none";
}

statement_statistics backend::top_statements(soci::session&, std::size_t) const {
  statement_statistics none;
  none.advice = fmt::format(
      "{} keeps no statistics of statements. To see what evstore runs and how long it takes, "
      "log the queries: evstore --log-queries ..., or EVSTORE_LOG_QUERIES=true in the "
      "application (statements over EVSTORE_SLOW_QUERY_THRESHOLD are logged as warnings "
      "always).",
      name());
  return none;
}

bool dialect::lock_migrations_in_transaction(soci::session& /*session*/,
                                             std::chrono::milliseconds /*timeout*/) const {
  throw migration_error(
      "this backend has no transaction-level migration lock: run migrations through a direct "
      "connection (EVSTORE_DIRECT_URL), not through a transaction-mode pooler");
}

std::string dialect::write_position() const {
  return {};
}

std::string dialect::replay_position() const {
  return {};
}

void backend::interrupt(soci::session& /*session*/) const noexcept {}

void backend::close_now(soci::session& /*session*/) const noexcept {}

bool backend::copy_rows(soci::session& /*session*/, std::string_view /*table*/,
                        std::span<const bulk_column> /*columns*/,
                        std::span<const bulk_value> /*values*/) const {
  return false;
}

}  // namespace evstore
