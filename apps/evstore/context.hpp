#pragma once

// What every command needs: the layered configuration and the plugins.

#include <memory>
#include <string>
#include <vector>

#include <evstore/backend.hpp>
#include <evstore/config.hpp>
#include <evstore/connection.hpp>
#include <evstore/migration.hpp>
#include <evstore/plugin_registry.hpp>
#include <evstore/store.hpp>

namespace evstore::cli {

struct global_options {
  std::string database_url;
  std::string log_level;
  bool log_queries = false;
  double connect_timeout = 0;  // seconds; 0 means "not given"
  std::string migrations_dir;
  double lock_timeout = 0;  // seconds; 0 means "not given"
  std::string direct_url;
};

class context {
 public:
  /// Loads .env files and the environment, then applies the command-line flags.
  explicit context(const global_options& flags);

  [[nodiscard]] const evstore::config& config() const noexcept { return config_; }
  /// The application's migrations for `backend` (scope "app"): EVSTORE_MIGRATIONS_DIR/<backend>/
  /// when that folder exists (one per dialect, as `migrate create` writes them), else the
  /// folder itself; none when it is not set.
  [[nodiscard]] std::vector<migration> app_migrations(const std::string& backend) const;

  /// Opens a store on the configured database, with the configured settings.
  [[nodiscard]] std::unique_ptr<store> open_store() const;

  /// Opens a connection to the configured database, with the configured settings (those in
  /// the URL too), as the store opens each of its own.
  [[nodiscard]] connection connect(const plugin_registry& plugins) const;

  /// Opens the connection migrations run on: EVSTORE_DIRECT_URL when set, else as connect()
  /// (single_transaction through a transaction-mode pooler).
  [[nodiscard]] migration_connection connect_for_migrations(const plugin_registry& plugins) const;

  /// Discovers the plugins on the search path (EVSTORE_PLUGIN_PATH, then the default).
  [[nodiscard]] plugin_registry discover_plugins() const;

 private:
  evstore::config config_;
};

}  // namespace evstore::cli
