// The one place where PostgreSQL SQLSTATE codes become evstore errors. The class (first two
// characters) decides, except for the codes that a retry can cure.

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

constexpr std::string_view backend_name = "postgresql";
constexpr std::string_view query_canceled = "57014";

bool is_transient(std::string_view sqlstate) {
  return sqlstate == "40001"      // serialization_failure
         || sqlstate == "40P01"   // deadlock_detected
         || sqlstate == "55P03"   // lock_not_available
         || sqlstate == "53300";  // too_many_connections
}

}  // namespace

std::string trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

void throw_for_sqlstate(const std::string& sqlstate, const std::string& message) {
  const std::string backend(backend_name);
  const std::string_view code_class = std::string_view(sqlstate).substr(0, 2);
  if (is_transient(sqlstate)) {
    throw transient_error(message, sqlstate, backend);
  }
  if (sqlstate == query_canceled) {
    // statement_timeout (or a cancel request): the statement failed, the connection is fine.
    throw timeout_error(message, sqlstate, backend);
  }
  if (code_class == "08" || code_class == "57" || code_class == "28" || code_class == "3D") {
    // connection exception, operator intervention (shutdown), invalid authorization,
    // invalid catalog name (no such database)
    throw connection_error(message, sqlstate, backend);
  }
  if (code_class == "23") {
    throw constraint_violation(message, sqlstate, backend);
  }
  throw error(error_category::database, message, sqlstate, backend);
}

void postgresql_backend::rethrow_translated(std::exception_ptr failure,
                                            std::string_view context) const {
  rethrow_translated_error(failure, context);
}

void rethrow_translated_error(std::exception_ptr failure, std::string_view context) {
  try {
    std::rethrow_exception(failure);
  } catch (const evstore::error&) {
    throw;
  } catch (const soci::postgresql_soci_error& e) {
    throw_for_sqlstate(e.sqlstate(), fmt::format("postgresql: {}: {}", context, e.what()));
  } catch (const std::exception& e) {
    throw error(error_category::database, fmt::format("postgresql: {}: {}", context, e.what()), "",
                std::string(backend_name));
  }
}

}  // namespace evstore::postgresql
