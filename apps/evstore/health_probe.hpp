#pragma once

// What `evstore serve` and `evstore health` check the database with: a store opened from the
// configuration, as an application opens one, and a health checker over its pool.

#include <memory>

#include <CLI/CLI.hpp>

#include <evstore/health.hpp>
#include <evstore/store.hpp>

#include "context.hpp"

namespace evstore::cli {

/// The health flags as given, in seconds; negative means "not given" (then EVSTORE_HEALTH_*
/// or the default).
struct health_flags {
  double timeout = -1;
  double cache = -1;
};

/// Adds --health-timeout and, if `with_cache`, --health-cache to `command`.
void add_health_flags(CLI::App& command, health_flags& flags, bool with_cache);

/// A store on the configured database and a health checker over its pool.
class database_probe {
 public:
  /// Opens the store (loads the plugins, sets up the pool; no connection is opened yet).
  /// @throws config_error for a bad URL or health setting; plugin_error when no plugin
  ///         serves the URL's scheme.
  database_probe(const context& ctx, const health_flags& flags);
  database_probe(const database_probe&) = delete;
  database_probe& operator=(const database_probe&) = delete;
  /// Closes the checker (waiting for a check that is borrowing), then the store.
  ~database_probe();

  [[nodiscard]] health_checker& checker() noexcept { return *checker_; }
  [[nodiscard]] const evstore::store& store() const noexcept { return *store_; }

 private:
  std::unique_ptr<evstore::store> store_;  // the checker borrows from its pool: declared first
  std::unique_ptr<health_checker> checker_;
};

}  // namespace evstore::cli
