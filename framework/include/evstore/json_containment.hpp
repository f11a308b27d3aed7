#pragma once

/// @file
/// PostgreSQL's jsonb containment (`document @> pattern`) over nlohmann::json, for backends
/// whose database has no such operator: the SQLite plugin registers it as an SQL function, a
/// non-SQL store calls it directly. Metadata filters then select the same rows everywhere.

#include <nlohmann/json.hpp>

#include "evstore/export.hpp"

namespace evstore {

/// Whether `document` contains `pattern` as PostgreSQL's jsonb `@>` decides: an object
/// contains a subset of keys whose values contain recursively, an array contains each element
/// of the pattern array in some element (order and duplicates do not matter), a scalar equals
/// (numbers by value), and a top-level array contains a scalar that is one of its elements.
[[nodiscard]] EVSTORE_API bool json_contains(const nlohmann::json& document,
                                             const nlohmann::json& pattern);

}  // namespace evstore
