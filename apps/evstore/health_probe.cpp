#include "health_probe.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/settings.hpp>

namespace evstore::cli {
namespace {

constexpr std::chrono::milliseconds default_timeout{2000};
constexpr std::chrono::milliseconds default_cache{1000};

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

database_probe::database_probe(const context& ctx, const health_flags& flags) {
  health_options options;
  options.timeout = setting(ctx, "EVSTORE_HEALTH_TIMEOUT", flags.timeout, default_timeout);
  options.cache_for = setting(ctx, "EVSTORE_HEALTH_CACHE", flags.cache, default_cache);
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    throw config_error(fmt::format("EVSTORE_HEALTH_TIMEOUT from {}: must be more than 0 seconds",
                                   ctx.config().origin("EVSTORE_HEALTH_TIMEOUT")));
  }

  auto settings = store_options_from(ctx.config());
  // A check reports what it finds now: a database that refuses connections is down, not
  // retried until the check times out.
  settings.connect_retry_budget = std::chrono::milliseconds(0);
  // A connection that takes longer to open than a check may take is of no use to one, and
  // closing the pool waits for connections being opened: a hung server must not hold it.
  settings.connect.connect_timeout = std::min(settings.connect.connect_timeout, options.timeout);
  // A connection that went bad while idle (a restarted server) is replaced before a check
  // uses it, with a ping bounded like the check itself.
  settings.pool.validate = [timeout = options.timeout](connection& conn) {
    (void)conn.backend().ping(conn.session(), timeout);
    return true;
  };
  const auto url = ctx.config().database();
  store_ = store::open(url, std::move(settings));
  options.pooler = store_->options().connect.pooler;
  if (!store_->options().read_urls.empty()) {
    options.replicas = [replicas = store_.get()](std::chrono::milliseconds wait) {
      return replicas->replicas(wait);
    };
  }
  const auto backend = store_->database_backend().name();
  checker_ = std::make_unique<health_checker>(store_->pool(), url, backend, options,
                                              ctx.app_migrations(backend));
}

// The checker goes first (members are destroyed in reverse order), then the store.
database_probe::~database_probe() = default;

}  // namespace evstore::cli
