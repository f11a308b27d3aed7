// SQL functions this plugin adds to every SQLite connection, so that the core's generic SQL
// behaves as on PostgreSQL.

// SOCI includes sqlite3.h inside namespace sqlite_api, which hides the global declarations.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <nlohmann/json.hpp>

#include <evstore/json_containment.hpp>

#include "backend.hpp"

namespace evstore::sqlite {
namespace {

using nlohmann::json;
using sqlite_api::sqlite3_context;
using sqlite_api::sqlite3_value;

std::string_view text_argument(sqlite3_value* value) {
  const auto* text = sqlite_api::sqlite3_value_text(value);
  return text == nullptr
             ? std::string_view()
             : std::string_view(reinterpret_cast<const char*>(text),
                                static_cast<std::size_t>(sqlite_api::sqlite3_value_bytes(value)));
}

void json_contains_function(sqlite3_context* context, int, sqlite3_value** arguments) {
  if (sqlite_api::sqlite3_value_type(arguments[0]) == SQLITE_NULL ||
      sqlite_api::sqlite3_value_type(arguments[1]) == SQLITE_NULL) {
    sqlite_api::sqlite3_result_null(context);
    return;
  }
  const auto document = json::parse(text_argument(arguments[0]), nullptr, false);
  const auto pattern = json::parse(text_argument(arguments[1]), nullptr, false);
  if (document.is_discarded() || pattern.is_discarded()) {
    sqlite_api::sqlite3_result_error(context, "evstore_json_contains: malformed JSON", -1);
    return;
  }
  sqlite_api::sqlite3_result_int(context, json_contains(document, pattern) ? 1 : 0);
}

}  // namespace

void register_functions(soci::session& session) {
  auto* native = native_connection(session);
  const int result = sqlite_api::sqlite3_create_function_v2(
      native, "evstore_json_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
      nullptr, &json_contains_function, nullptr, nullptr, nullptr);
  if (result != SQLITE_OK) {
    throw_for_result_code(result, "sqlite: registering evstore_json_contains failed");
  }
}

}  // namespace evstore::sqlite
