// SQL functions this plugin adds to every SQLite connection, so that the core's generic SQL
// behaves as on PostgreSQL.

#include <algorithm>

// SOCI includes sqlite3.h inside namespace sqlite_api, which hides the global declarations.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <nlohmann/json.hpp>

#include "backend.hpp"

namespace evstore::sqlite {
namespace {

using nlohmann::json;
using sqlite_api::sqlite3_context;
using sqlite_api::sqlite3_value;

bool contains(const json& document, const json& pattern);

// Every element of `pattern` is contained in some element of `document`; order and
// duplicates do not matter.
bool array_contains(const json& document, const json& pattern) {
  for (const auto& wanted : pattern) {
    bool found = false;
    for (const auto& element : document) {
      if (contains(element, wanted)) {
        found = true;
        break;
      }
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

// PostgreSQL's jsonb @> : objects contain a subset of keys whose values contain recursively,
// arrays contain elements by containment, scalars are equal (numbers by value).
bool contains(const json& document, const json& pattern) {
  if (pattern.is_object()) {
    if (!document.is_object()) {
      return false;
    }
    for (const auto& [key, value] : pattern.items()) {
      const auto found = document.find(key);
      if (found == document.end() || !contains(*found, value)) {
        return false;
      }
    }
    return true;
  }
  if (pattern.is_array()) {
    return document.is_array() && array_contains(document, pattern);
  }
  return document == pattern;
}

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
  // A top-level array contains a scalar that is one of its elements, as in PostgreSQL.
  const bool top_level_element =
      document.is_array() && pattern.is_primitive() &&
      std::find(document.begin(), document.end(), pattern) != document.end();
  sqlite_api::sqlite3_result_int(context, top_level_element || contains(document, pattern) ? 1 : 0);
}

}  // namespace

void register_functions(soci::session& session) {
  auto* native = static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
  const int result = sqlite_api::sqlite3_create_function_v2(
      native, "evstore_json_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
      nullptr, &json_contains_function, nullptr, nullptr, nullptr);
  if (result != SQLITE_OK) {
    throw_for_result_code(result, "sqlite: registering evstore_json_contains failed");
  }
}

}  // namespace evstore::sqlite
