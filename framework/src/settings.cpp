#include "evstore/settings.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <string_view>

#include <spdlog/fmt/fmt.h>

#include "evstore/error.hpp"

namespace evstore {
namespace {

using std::chrono::milliseconds;

std::size_t parse_count(std::string_view name, std::string_view origin, const std::string& text) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw config_error(fmt::format("{} from {}: expected a whole number", name, origin));
  }
  return value;
}

milliseconds parse_seconds(std::string_view name, std::string_view origin,
                           const std::string& text) {
  // config::seconds knows the format; a one-value config reuses it with the right origin.
  config single;
  single.set(std::string(name), text, std::string(origin));
  return single.seconds(name, milliseconds(0));
}

// One setting: its URL parameter, its variable, and where it goes.
struct setting {
  std::string_view parameter;
  std::string_view variable;
  std::function<void(store_options&, std::string_view name, std::string_view origin,
                     const std::string& text)>
      apply;
};

auto count_into(std::size_t pool_settings::*member) {
  return [member](store_options& o, std::string_view name, std::string_view origin,
                  const std::string& text) { o.pool.*member = parse_count(name, origin, text); };
}

auto seconds_into(milliseconds pool_settings::*member) {
  return [member](store_options& o, std::string_view name, std::string_view origin,
                  const std::string& text) { o.pool.*member = parse_seconds(name, origin, text); };
}

pooler_mode parse_pooler(std::string_view name, std::string_view origin, const std::string& text) {
  for (const auto mode : {pooler_mode::none, pooler_mode::session, pooler_mode::transaction}) {
    if (text == to_string(mode)) {
      return mode;
    }
  }
  throw config_error(
      fmt::format("{} from {}: expected none, session or transaction", name, origin));
}

const std::vector<setting>& settings() {
  static const std::vector<setting> table = {
      {"pool_max", "EVSTORE_POOL_MAX", count_into(&pool_settings::max_size)},
      {"pool_min_idle", "EVSTORE_POOL_MIN_IDLE", count_into(&pool_settings::min_idle)},
      {"pool_acquire_timeout", "EVSTORE_POOL_ACQUIRE_TIMEOUT",
       seconds_into(&pool_settings::acquire_timeout)},
      {"pool_idle_timeout", "EVSTORE_POOL_IDLE_TIMEOUT",
       seconds_into(&pool_settings::idle_timeout)},
      {"pool_max_lifetime", "EVSTORE_POOL_MAX_LIFETIME",
       seconds_into(&pool_settings::max_lifetime)},
      {"pool_validation_threshold", "EVSTORE_POOL_VALIDATION_THRESHOLD",
       seconds_into(&pool_settings::validation_threshold)},
      {"pool_leak_threshold", "EVSTORE_POOL_LEAK_THRESHOLD",
       seconds_into(&pool_settings::leak_threshold)},
      {"retry_attempts", "EVSTORE_RETRY_ATTEMPTS",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) {
         o.retry.max_attempts = static_cast<int>(
             std::max<std::size_t>(1, std::min<std::size_t>(parse_count(name, origin, text), 100)));
       }},
      {"retry_budget", "EVSTORE_RETRY_BUDGET",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) { o.retry.budget = parse_seconds(name, origin, text); }},
      {"statement_cache_size", "EVSTORE_STATEMENT_CACHE_SIZE",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) {
         o.connect.statement_cache_size = parse_count(name, origin, text);
       }},
      {"connect_retry_budget", "EVSTORE_CONNECT_RETRY_BUDGET",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) { o.connect_retry_budget = parse_seconds(name, origin, text); }},
      {"statement_timeout", "EVSTORE_STATEMENT_TIMEOUT",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) {
         o.connect.statement_timeout = parse_seconds(name, origin, text);
       }},
      {"call_timeout", "EVSTORE_CALL_TIMEOUT",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) { o.call_timeout = parse_seconds(name, origin, text); }},
      {"max_replica_lag", "EVSTORE_MAX_REPLICA_LAG",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) { o.replicas.max_lag = parse_seconds(name, origin, text); }},
      {"read_your_writes_wait", "EVSTORE_READ_YOUR_WRITES_WAIT",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) {
         o.replicas.read_your_writes_wait = parse_seconds(name, origin, text);
       }},
      {"replica_check_interval", "EVSTORE_REPLICA_CHECK_INTERVAL",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) {
         o.replicas.check_interval = parse_seconds(name, origin, text);
         if (o.replicas.check_interval <= milliseconds::zero()) {
           throw config_error(fmt::format("{} from {}: must be more than 0", name, origin));
         }
       }},
      {"pooler", "EVSTORE_POOLER",
       [](store_options& o, std::string_view name, std::string_view origin,
          const std::string& text) { o.connect.pooler = parse_pooler(name, origin, text); }},
  };
  return table;
}

// A URL-valued setting; the parser's message names a position, never the URL's text or
// password.
database_url parse_url_setting(std::string_view name, std::string_view origin,
                               std::string_view text) {
  try {
    return parse_database_url(text);
  } catch (const config_error& e) {
    throw config_error(fmt::format("{} from {}: {}", name, origin, e.what()));
  }
}

// EVSTORE_READ_URLS: URLs separated by white space (a URL has none of its own, and a comma
// may belong to a multi-host URL).
std::vector<database_url> parse_url_list(std::string_view name, std::string_view origin,
                                         std::string_view text) {
  std::vector<database_url> urls;
  constexpr std::string_view blanks = " \t\n\r";
  for (auto start = text.find_first_not_of(blanks); start != std::string_view::npos;) {
    const auto end = std::min(text.find_first_of(blanks, start), text.size());
    urls.push_back(parse_url_setting(fmt::format("{} (URL {})", name, urls.size() + 1), origin,
                                     text.substr(start, end - start)));
    start = text.find_first_not_of(blanks, end);
  }
  return urls;
}

bool parse_flag(std::string_view name, std::string_view origin, const std::string& text) {
  if (text == "1" || text == "true" || text == "on" || text == "yes") {
    return true;
  }
  if (text == "0" || text == "false" || text == "off" || text == "no") {
    return false;
  }
  throw config_error(fmt::format("{} from {}: expected true or false", name, origin));
}

}  // namespace

store_options store_options_from(const config& cfg) {
  store_options options;
  for (const auto& s : settings()) {
    const std::string variable(s.variable);
    if (const auto text = cfg.get(variable)) {
      s.apply(options, variable, cfg.origin(variable), *text);
    }
  }
  options.connect.connect_timeout =
      cfg.seconds("EVSTORE_CONNECT_TIMEOUT", options.connect.connect_timeout);
  options.connect.busy_timeout = cfg.seconds("EVSTORE_BUSY_TIMEOUT", options.connect.busy_timeout);
  options.connect.application_name =
      cfg.get("EVSTORE_APPLICATION_NAME").value_or(options.connect.application_name);
  options.plugin_path = cfg.get("EVSTORE_PLUGIN_PATH").value_or("");
  if (const auto text = cfg.get("EVSTORE_DIRECT_URL")) {
    options.direct_url =
        parse_url_setting("EVSTORE_DIRECT_URL", cfg.origin("EVSTORE_DIRECT_URL"), *text);
  }
  if (const auto text = cfg.get("EVSTORE_READ_URLS")) {
    options.read_urls = parse_url_list("EVSTORE_READ_URLS", cfg.origin("EVSTORE_READ_URLS"), *text);
  }

  const auto environment = cfg.get("EVSTORE_ENV").value_or("development");
  if (environment != "development" && environment != "production" && environment != "test") {
    throw config_error(fmt::format("EVSTORE_ENV from {}: expected development, test or production",
                                   cfg.origin("EVSTORE_ENV")));
  }
  // Every statement is logged in development; slow ones everywhere.
  options.query_log.enabled = environment == "development";
  if (const auto text = cfg.get("EVSTORE_LOG_QUERIES")) {
    options.query_log.enabled =
        parse_flag("EVSTORE_LOG_QUERIES", cfg.origin("EVSTORE_LOG_QUERIES"), *text);
  }
  if (const auto text = cfg.get("EVSTORE_LOG_QUERY_PARAMETERS")) {
    options.query_log.parameters = parse_flag("EVSTORE_LOG_QUERY_PARAMETERS",
                                              cfg.origin("EVSTORE_LOG_QUERY_PARAMETERS"), *text);
  }
  options.query_log.slow_threshold =
      cfg.seconds("EVSTORE_SLOW_QUERY_THRESHOLD", options.query_log.slow_threshold);
  return options;
}

void apply_url_settings(database_url& url, store_options& options) {
  std::erase_if(url.params, [&](const auto& param) {
    const auto& [key, value] = param;
    const auto found = std::find_if(settings().begin(), settings().end(),
                                    [&](const setting& s) { return s.parameter == key; });
    if (found == settings().end()) {
      return false;
    }
    found->apply(options, key, "the database URL", value);
    return true;
  });
}

}  // namespace evstore
