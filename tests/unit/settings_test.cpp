// Settings reach the store from EVSTORE_* values and from the URL's own parameters, which win
// and never reach the backend.

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/migrator.hpp>
#include <evstore/settings.hpp>

#include "process.hpp"

using namespace std::chrono_literals;

namespace {

evstore::config with(std::initializer_list<std::pair<std::string, std::string>> values) {
  evstore::config cfg;
  for (const auto& [key, value] : values) {
    cfg.set(key, value, "--" + key);
  }
  return cfg;
}

std::string config_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const evstore::config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a config_error";
  return {};
}

}  // namespace

TEST(settings, defaults_log_every_query_in_development_only) {
  const auto development = evstore::store_options_from(with({}));
  EXPECT_TRUE(development.query_log.enabled);
  EXPECT_FALSE(development.query_log.parameters);
  EXPECT_EQ(development.query_log.slow_threshold, 500ms);
  EXPECT_EQ(development.pool.acquire_timeout, 5s);
  EXPECT_EQ(development.pool.max_size, evstore::default_pool_max_size());
  const auto production = evstore::store_options_from(with({{"EVSTORE_ENV", "production"}}));
  EXPECT_FALSE(production.query_log.enabled);
}

TEST(settings, evstore_variables_set_the_pool_retries_timeouts_and_logging) {
  const auto options =
      evstore::store_options_from(with({{"EVSTORE_POOL_MAX", "12"},
                                        {"EVSTORE_POOL_MIN_IDLE", "2"},
                                        {"EVSTORE_POOL_ACQUIRE_TIMEOUT", "1.5"},
                                        {"EVSTORE_POOL_LEAK_THRESHOLD", "30"},
                                        {"EVSTORE_RETRY_ATTEMPTS", "3"},
                                        {"EVSTORE_RETRY_BUDGET", "2"},
                                        {"EVSTORE_CONNECT_RETRY_BUDGET", "0"},
                                        {"EVSTORE_CONNECT_TIMEOUT", "4"},
                                        {"EVSTORE_LOG_QUERIES", "false"},
                                        {"EVSTORE_LOG_QUERY_PARAMETERS", "on"},
                                        {"EVSTORE_SLOW_QUERY_THRESHOLD", "0.25"}}));
  EXPECT_EQ(options.pool.max_size, 12U);
  EXPECT_EQ(options.pool.min_idle, 2U);
  EXPECT_EQ(options.pool.acquire_timeout, 1500ms);
  EXPECT_EQ(options.pool.leak_threshold, 30s);
  EXPECT_EQ(options.retry.max_attempts, 3);
  EXPECT_EQ(options.retry.budget, 2s);
  EXPECT_EQ(options.connect_retry_budget, 0ms);
  EXPECT_EQ(options.connect.connect_timeout, 4s);
  EXPECT_FALSE(options.query_log.enabled);
  EXPECT_TRUE(options.query_log.parameters);
  EXPECT_EQ(options.query_log.slow_threshold, 250ms);
}

TEST(settings, a_bad_value_names_the_variable_and_where_it_came_from) {
  const auto message = config_error_of([] {
    (void)evstore::store_options_from(with({{"EVSTORE_POOL_MAX", "many"}}));
  });
  EXPECT_NE(message.find("EVSTORE_POOL_MAX from --EVSTORE_POOL_MAX"), std::string::npos) << message;
  EXPECT_NE(config_error_of([] {
              (void)evstore::store_options_from(with({{"EVSTORE_LOG_QUERIES", "maybe"}}));
            }).find("EVSTORE_LOG_QUERIES"),
            std::string::npos);
  EXPECT_NE(config_error_of([] {
              (void)evstore::store_options_from(with({{"EVSTORE_ENV", "staging"}}));
            }).find("EVSTORE_ENV"),
            std::string::npos);
}

TEST(settings, url_parameters_win_and_are_removed_before_the_backend_sees_the_url) {
  auto url = evstore::parse_database_url(
      "postgresql://app@db/events?sslmode=require&pool_max=3&pool_acquire_timeout=0.2&"
      "application_name=api&retry_attempts=7");
  auto options = evstore::store_options_from(with({{"EVSTORE_POOL_MAX", "12"}}));
  evstore::apply_url_settings(url, options);
  EXPECT_EQ(options.pool.max_size, 3U) << "the URL wins";
  EXPECT_EQ(options.pool.acquire_timeout, 200ms);
  EXPECT_EQ(options.retry.max_attempts, 7);
  EXPECT_EQ(url.params, (std::vector<std::pair<std::string, std::string>>{
                            {"sslmode", "require"}, {"application_name", "api"}}))
      << "libpq's parameters stay, in order; evstore's are gone";
}

TEST(settings, a_bad_url_parameter_names_the_parameter) {
  auto url = evstore::parse_database_url("sqlite://x.db?pool_max=-1");
  evstore::store_options options;
  const auto message = config_error_of([&] { evstore::apply_url_settings(url, options); });
  EXPECT_NE(message.find("pool_max from the database URL"), std::string::npos) << message;
}

TEST(settings, statement_and_call_timeouts_default_to_30_and_35_s_and_come_from_variables_or_url) {
  const evstore::store_options defaults;
  EXPECT_EQ(defaults.connect.statement_timeout, 30s);
  EXPECT_EQ(defaults.call_timeout, 35s);
  auto options = evstore::store_options_from(
      with({{"EVSTORE_STATEMENT_TIMEOUT", "2"}, {"EVSTORE_CALL_TIMEOUT", "4"}}));
  EXPECT_EQ(options.connect.statement_timeout, 2s);
  EXPECT_EQ(options.call_timeout, 4s);
  auto url = evstore::parse_database_url(
      "postgresql://app@db/events?statement_timeout=0.5&call_timeout=0");
  evstore::apply_url_settings(url, options);
  EXPECT_EQ(options.connect.statement_timeout, 500ms);
  EXPECT_EQ(options.call_timeout, 0ms);
  EXPECT_TRUE(url.params.empty());
}

TEST(settings, the_pooler_comes_from_evstore_pooler_or_the_url_and_is_checked) {
  EXPECT_EQ(evstore::store_options_from(with({})).connect.pooler, evstore::pooler_mode::none);
  auto options = evstore::store_options_from(with({{"EVSTORE_POOLER", "transaction"}}));
  EXPECT_EQ(options.connect.pooler, evstore::pooler_mode::transaction);
  auto url = evstore::parse_database_url("postgresql://u@h/db?pooler=session&sslmode=disable");
  evstore::apply_url_settings(url, options);
  EXPECT_EQ(options.connect.pooler, evstore::pooler_mode::session) << "the URL wins";
  EXPECT_EQ(url.params, (decltype(url.params){{"sslmode", "disable"}})) << "libpq never sees it";
  EXPECT_EQ(config_error_of([] {
              (void)evstore::store_options_from(with({{"EVSTORE_POOLER", "pgbouncer"}}));
            }),
            "EVSTORE_POOLER from --EVSTORE_POOLER: expected none, session or transaction");
}

TEST(settings, the_direct_url_is_parsed_and_a_bad_one_named_without_its_text) {
  const auto options = evstore::store_options_from(
      with({{"EVSTORE_DIRECT_URL", "postgresql://admin:s3cret@db.internal:5432/app"}}));
  ASSERT_TRUE(options.direct_url.has_value());
  EXPECT_EQ(options.direct_url->host, "db.internal");
  EXPECT_EQ(options.direct_url->password, "s3cret");
  const auto message = config_error_of([] {
    (void)evstore::store_options_from(
        with({{"EVSTORE_DIRECT_URL", "postgresql://admin:s3cr%zzet@db.internal:5432/app"}}));
  });
  EXPECT_TRUE(
      message.starts_with("EVSTORE_DIRECT_URL from --EVSTORE_DIRECT_URL: invalid database "
                          "URL at position "))
      << message;
  EXPECT_EQ(message.find("s3cr"), std::string::npos) << message;
}

TEST(settings, migrations_run_in_one_transaction_only_through_a_transaction_pooler) {
  const auto& plugins = evstore::test::default_plugins();
  const auto memory = evstore::parse_database_url("sqlite::memory:");
  EXPECT_FALSE(evstore::open_migration_connection(plugins, memory, {}).single_transaction);
  auto pooled = memory;
  pooled.params.emplace_back("pooler", "transaction");
  auto target = evstore::open_migration_connection(plugins, pooled, {});
  EXPECT_TRUE(target.single_transaction);
  // A backend without a transaction-level lock (SQLite's dialect) refuses such a run.
  evstore::migrator_options options;
  options.single_transaction = true;
  evstore::migrator engine(target.conn, {}, options);
  try {
    (void)engine.up();
    FAIL() << "SQLite has no transaction-level migration lock";
  } catch (const evstore::migration_error& e) {
    EXPECT_NE(std::string(e.what()).find("run migrations through a direct connection "
                                         "(EVSTORE_DIRECT_URL)"),
              std::string::npos)
        << e.what();
  }
  evstore::store_options direct;
  direct.direct_url = memory;
  EXPECT_FALSE(evstore::open_migration_connection(plugins, pooled, direct).single_transaction)
      << "a direct URL is a direct connection";
}

TEST(settings, read_urls_are_separated_by_white_space_and_a_bad_one_is_named_by_number) {
  const auto options = evstore::store_options_from(
      with({{"EVSTORE_READ_URLS",
             " postgresql://u:p@replica1:5432/app\n\tpostgresql://u:p@r2:5433,r3:5434/app "}}));
  ASSERT_EQ(options.read_urls.size(), 2U);
  EXPECT_EQ(options.read_urls[0].host, "replica1");
  EXPECT_EQ(options.read_urls[1].database, "app");
  EXPECT_TRUE(evstore::store_options_from(with({{"EVSTORE_READ_URLS", "  "}})).read_urls.empty());
  const auto message = config_error_of([] {
    (void)evstore::store_options_from(
        with({{"EVSTORE_READ_URLS", "postgresql://u:p@r1/app postgresql://u:s3cr%zzet@r2/app"}}));
  });
  EXPECT_TRUE(
      message.starts_with("EVSTORE_READ_URLS (URL 2) from --EVSTORE_READ_URLS: invalid "
                          "database URL at position "))
      << message;
  EXPECT_EQ(message.find("s3cr"), std::string::npos) << message;
}

TEST(settings, replica_settings_are_read_in_seconds_and_the_check_interval_must_be_positive) {
  const auto defaults = evstore::store_options_from(with({}));
  EXPECT_EQ(defaults.replicas.max_lag, 5s);
  EXPECT_EQ(defaults.replicas.read_your_writes_wait, 0ms);
  EXPECT_EQ(defaults.replicas.check_interval, 100ms);
  const auto options =
      evstore::store_options_from(with({{"EVSTORE_MAX_REPLICA_LAG", "2.5"},
                                        {"EVSTORE_READ_YOUR_WRITES_WAIT", "0.02"},
                                        {"EVSTORE_REPLICA_CHECK_INTERVAL", "0.05"}}));
  EXPECT_EQ(options.replicas.max_lag, 2500ms);
  EXPECT_EQ(options.replicas.read_your_writes_wait, 20ms);
  EXPECT_EQ(options.replicas.check_interval, 50ms);
  EXPECT_EQ(config_error_of([] {
              (void)evstore::store_options_from(with({{"EVSTORE_REPLICA_CHECK_INTERVAL", "0"}}));
            }),
            "EVSTORE_REPLICA_CHECK_INTERVAL from --EVSTORE_REPLICA_CHECK_INTERVAL: must be more "
            "than 0");
}
