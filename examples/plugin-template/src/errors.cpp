// The one place where the database's error codes become evstore errors. The core retries
// transient_error, reports constraint_violation to the caller, and so on: the mapping decides
// how evstore behaves on this database.

#include <soci/soci.h>
// SOCI includes sqlite3.h inside namespace sqlite_api.
#include <soci/sqlite3/soci-sqlite3.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace templatedb {

void throw_for_result_code(int code, const std::string& message) {
  // The primary code's symbolic name is the error's native code ("database is locked").
  const std::string native = sqlite_api::sqlite3_errstr(code);
  const std::string name(backend_name);
  switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw evstore::transient_error(message, native, name);
    case SQLITE_CONSTRAINT:
      throw evstore::constraint_violation(message, native, name);
    case SQLITE_CANTOPEN:
      throw evstore::connection_error(message, native, name);
    default:
      throw evstore::error(evstore::error_category::database, message, native, name);
  }
}

void templatedb_backend::rethrow_translated(std::exception_ptr failure,
                                            std::string_view context) const {
  // No soci:: or other foreign exception may leave a plugin.
  try {
    std::rethrow_exception(failure);
  } catch (const evstore::error&) {
    throw;
  } catch (const soci::sqlite3_soci_error& e) {
    throw_for_result_code(
        e.result(), std::string(backend_name) + ": " + std::string(context) + ": " + e.what());
  } catch (const std::exception& e) {
    throw evstore::error(evstore::error_category::database,
                         std::string(backend_name) + ": " + std::string(context) + ": " + e.what(),
                         "", std::string(backend_name));
  }
}

}  // namespace templatedb
