#pragma once

/// @file
/// For an application's own tests (CMake target evstore::testing): a store on a private
/// in-memory SQLite database with every migration applied, in one line.
///
///     TEST(checkout, stores_the_order_event) {
///       auto store = evstore::testing::memory_store();
///       ...
///     }
///
/// The same repository code then runs as in production on PostgreSQL. See docs/testing.md.

#include <memory>
#include <vector>

#include "evstore/export.hpp"
#include "evstore/migration.hpp"
#include "evstore/store.hpp"

namespace evstore::testing {

/// A new store on its own in-memory SQLite database, isolated from every other one, with
/// evstore's migrations applied, then `app` (the application's own, scope "app").
/// The database is gone when the store is.
/// @throws plugin_error when the SQLite plugin cannot be found; migration_error.
[[nodiscard]] EVSTORE_API std::unique_ptr<store> memory_store(std::vector<migration> app = {},
                                                              store_options options = {});

}  // namespace evstore::testing
