// The one place where SQLite result codes become evstore errors. SOCI 4.0.3's
// sqlite3_soci_error carries the result code but no error category.

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sqlite3.h>

#include <spdlog/fmt/fmt.h>

#include <evstore/error.hpp>

#include "backend.hpp"

namespace evstore::sqlite {
namespace {

constexpr std::string_view backend_name = "sqlite";

}  // namespace

std::string result_code_name(int code) {
  const int primary = code & 0xFF;
  switch (primary) {
    case SQLITE_ERROR:
      return "SQLITE_ERROR";
    case SQLITE_PERM:
      return "SQLITE_PERM";
    case SQLITE_BUSY:
      return "SQLITE_BUSY";
    case SQLITE_LOCKED:
      return "SQLITE_LOCKED";
    case SQLITE_READONLY:
      return "SQLITE_READONLY";
    case SQLITE_IOERR:
      return "SQLITE_IOERR";
    case SQLITE_CORRUPT:
      return "SQLITE_CORRUPT";
    case SQLITE_FULL:
      return "SQLITE_FULL";
    case SQLITE_CANTOPEN:
      return "SQLITE_CANTOPEN";
    case SQLITE_CONSTRAINT:
      return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH:
      return "SQLITE_MISMATCH";
    case SQLITE_NOTADB:
      return "SQLITE_NOTADB";
    default:
      return fmt::format("SQLITE_{}", primary);
  }
}

void throw_for_result_code(int code, const std::string& message) {
  const int primary = code & 0xFF;
  const std::string name = result_code_name(code);
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw transient_error(message, name, std::string(backend_name));
    case SQLITE_CONSTRAINT:
      throw constraint_violation(message, name, std::string(backend_name));
    case SQLITE_CANTOPEN:
      throw connection_error(message, name, std::string(backend_name));
    default:
      throw error(error_category::database, message, name, std::string(backend_name));
  }
}

void sqlite_backend::rethrow_translated(std::exception_ptr failure,
                                        std::string_view context) const {
  try {
    std::rethrow_exception(failure);
  } catch (const evstore::error&) {
    throw;
  } catch (const soci::sqlite3_soci_error& e) {
    throw_for_result_code(e.result(), fmt::format("sqlite: {}: {}", context, e.what()));
  } catch (const std::exception& e) {
    throw error(error_category::database, fmt::format("sqlite: {}: {}", context, e.what()), "",
                std::string(backend_name));
  }
}

}  // namespace evstore::sqlite
