#pragma once

// What `evstore serve` and `evstore health` check the database with: a small connection pool
// of their own and a health checker over it, set up from the configuration and flags.

#include <memory>

#include <CLI/CLI.hpp>

#include <evstore/config.hpp>
#include <evstore/health.hpp>
#include <evstore/plugin_registry.hpp>
#include <evstore/pool.hpp>

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

/// A pool on the configured database and a health checker over it.
class database_probe {
 public:
  /// Loads the plugins and sets up the pool (no connection is opened yet).
  /// @throws config_error for a bad URL or health setting; plugin_error when no plugin
  ///         serves the URL's scheme.
  database_probe(const context& ctx, const health_flags& flags);
  database_probe(const database_probe&) = delete;
  database_probe& operator=(const database_probe&) = delete;
  /// Closes the checker (waiting for a check that is borrowing), then the pool.
  ~database_probe();

  [[nodiscard]] health_checker& checker() noexcept { return *checker_; }
  [[nodiscard]] const connection_pool& pool() const noexcept { return *pool_; }

 private:
  plugin_registry registry_;  // used by the pool's factory: declared first, destroyed last
  database_url url_;
  std::unique_ptr<connection_pool> pool_;
  std::unique_ptr<health_checker> checker_;
};

}  // namespace evstore::cli
