#include "health_probe.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/settings.hpp>

namespace fs = std::filesystem;

namespace evstore::cli {
namespace {

constexpr std::chrono::milliseconds default_timeout{2000};
constexpr std::chrono::milliseconds default_cache{1000};
// One check runs at a time; the second connection is a spare while a broken one is replaced.
constexpr std::size_t probe_pool_size = 2;

std::chrono::milliseconds from_seconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0 + 0.5));
}

// A duration from its flag, else its variable, else the default.
std::chrono::milliseconds setting(const context& ctx, const char* variable, double flag,
                                  std::chrono::milliseconds fallback) {
  return flag >= 0 ? from_seconds(flag) : ctx.config().seconds(variable, fallback);
}

}  // namespace

void add_health_flags(CLI::App& command, health_flags& flags, bool with_cache) {
  command
      .add_option("--health-timeout", flags.timeout,
                  "Seconds a database check may take, waiting for a connection included "
                  "(default 2); overrides EVSTORE_HEALTH_TIMEOUT")
      ->check(CLI::PositiveNumber);
  if (with_cache) {
    command
        .add_option("--health-cache", flags.cache,
                    "Seconds a check's result is reused for further requests (default 1; 0 "
                    "checks every time); overrides EVSTORE_HEALTH_CACHE")
        ->check(CLI::NonNegativeNumber);
  }
}

database_probe::database_probe(const context& ctx, const health_flags& flags)
    : registry_(ctx.discover_plugins()), url_(ctx.config().database()) {
  health_options options;
  options.timeout = setting(ctx, "EVSTORE_HEALTH_TIMEOUT", flags.timeout, default_timeout);
  options.cache_for = setting(ctx, "EVSTORE_HEALTH_CACHE", flags.cache, default_cache);
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    throw config_error(fmt::format("EVSTORE_HEALTH_TIMEOUT from {}: must be more than 0 seconds",
                                   ctx.config().origin("EVSTORE_HEALTH_TIMEOUT")));
  }

  // evstore's own URL parameters (pool_max, ...) are for the application's pool; libpq would
  // refuse them.
  store_options ignored;
  apply_url_settings(url_, ignored);
  const auto& plugin = registry_.plugin_for(url_.scheme);

  pool_settings settings;
  settings.max_size = probe_pool_size;
  settings.acquire_timeout = options.timeout;
  // A connection that went bad while idle (a restarted server) is replaced before a check
  // uses it, with a ping bounded like the check itself.
  settings.validate = [timeout = options.timeout](connection& conn) {
    (void)conn.backend().ping(conn.session(), timeout);
    return true;
  };
  if (plugin.backend->single_connection_database(url_)) {
    settings.max_size = 1;
    settings.min_idle = 1;
    settings.idle_timeout = std::chrono::milliseconds(0);
    settings.max_lifetime = std::chrono::milliseconds(0);
  }
  // A connection that takes longer to open than a check may take is of no use to one, and
  // closing the pool waits for connections being opened: a hung server must not hold it.
  auto connect = ctx.connection_options();
  connect.connect_timeout = std::min(connect.connect_timeout, options.timeout);
  pool_ = std::make_unique<connection_pool>(
      [registry = &registry_, url = url_, connect] {
        return connection::open(*registry, url, connect);
      },
      std::move(settings));
  checker_ = std::make_unique<health_checker>(*pool_, url_, plugin.info.name, options,
                                              ctx.app_migrations(plugin.info.name));
}

database_probe::~database_probe() {
  checker_.reset();
  pool_->close();
}

}  // namespace evstore::cli
