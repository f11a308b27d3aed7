#include "evstore/json_containment.hpp"

#include <algorithm>

namespace evstore {
namespace {

using nlohmann::json;

bool contains(const json& document, const json& pattern);

// Every element of `pattern` is contained in some element of `document`.
bool array_contains(const json& document, const json& pattern) {
  return std::all_of(pattern.begin(), pattern.end(), [&](const json& wanted) {
    return std::any_of(document.begin(), document.end(),
                       [&](const json& element) { return contains(element, wanted); });
  });
}

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

}  // namespace

bool json_contains(const json& document, const json& pattern) {
  // Only at the top level does an array contain a bare scalar, as in PostgreSQL.
  const bool top_level_element =
      document.is_array() && pattern.is_primitive() &&
      std::find(document.begin(), document.end(), pattern) != document.end();
  return top_level_element || contains(document, pattern);
}

}  // namespace evstore
