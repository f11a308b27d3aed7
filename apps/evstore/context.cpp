#include "context.hpp"

#include <filesystem>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <evstore/error.hpp>
#include <evstore/settings.hpp>

namespace evstore::cli {
namespace {

void apply_log_level(const std::string& name, const std::string& origin) {
  const auto level = spdlog::level::from_str(name);
  // from_str answers "off" for any name it does not know.
  if (level == spdlog::level::off && name != "off") {
    throw config_error("EVSTORE_LOG_LEVEL from " + origin +
                       ": expected one of trace, debug, info, warn, error, critical, off");
  }
  spdlog::set_level(level);
}

}  // namespace

context::context(const global_options& flags)
    : config_(evstore::config::load(std::filesystem::current_path())) {
  if (!flags.database_url.empty()) {
    config_.set("DATABASE_URL", flags.database_url, "--database-url");
  }
  if (!flags.log_level.empty()) {
    config_.set("EVSTORE_LOG_LEVEL", flags.log_level, "--log-level");
  }
  if (flags.connect_timeout > 0) {
    config_.set("EVSTORE_CONNECT_TIMEOUT", std::to_string(flags.connect_timeout),
                "--connect-timeout");
  }
  if (!flags.migrations_dir.empty()) {
    config_.set("EVSTORE_MIGRATIONS_DIR", flags.migrations_dir, "--migrations-dir");
  }
  if (!flags.direct_url.empty()) {
    config_.set("EVSTORE_DIRECT_URL", flags.direct_url, "--direct-url");
  }
  if (flags.lock_timeout > 0) {
    config_.set("EVSTORE_MIGRATION_LOCK_TIMEOUT", std::to_string(flags.lock_timeout),
                "--lock-timeout");
  }
  if (flags.log_queries) {
    config_.set("EVSTORE_LOG_QUERIES", "true", "--log-queries");
    if (flags.log_level.empty()) {
      // Statements are logged at debug level.
      config_.set("EVSTORE_LOG_LEVEL", "debug", "--log-queries");
    }
  }
  apply_log_level(config_.get("EVSTORE_LOG_LEVEL").value_or("warn"),
                  config_.origin("EVSTORE_LOG_LEVEL"));
}

std::vector<migration> context::app_migrations(const std::string& backend) const {
  const auto dir = config_.get("EVSTORE_MIGRATIONS_DIR");
  if (!dir) {
    return {};
  }
  const auto root = std::filesystem::path(*dir);
  const auto folder = std::filesystem::is_directory(root / backend) ? root / backend : root;
  if (!std::filesystem::is_directory(folder)) {
    throw config_error(fmt::format("EVSTORE_MIGRATIONS_DIR from {}: {} is not a folder",
                                   config_.origin("EVSTORE_MIGRATIONS_DIR"), *dir));
  }
  return read_migrations(folder);
}

std::unique_ptr<store> context::open_store() const {
  return store::open(config_.database(), store_options_from(config_));
}

connection context::connect(const plugin_registry& plugins) const {
  return open_connection(plugins, config_.database(), store_options_from(config_));
}

migration_connection context::connect_for_migrations(const plugin_registry& plugins) const {
  return open_migration_connection(plugins, config_.database(), store_options_from(config_));
}

plugin_registry context::discover_plugins() const {
  return plugin_registry::discover(
      plugin_registry::search_path(config_.get("EVSTORE_PLUGIN_PATH").value_or("")));
}

}  // namespace evstore::cli
