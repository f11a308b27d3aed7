// The health report's JSON and the health checker over a pool of in-memory SQLite
// connections: up, degraded, down, the timeout when the pool is exhausted, caching, one check
// for concurrent callers, and reasons without the URL or password.

#include <chrono>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/config.hpp>
#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/health.hpp>
#include <evstore/migrator.hpp>
#include <evstore/pool.hpp>
#include <evstore/prometheus.hpp>
#include <evstore/redact.hpp>

#include "process.hpp"

using namespace std::chrono_literals;
using evstore::connection_pool;
using evstore::health_checker;
using evstore::health_status;
using steady = std::chrono::steady_clock;

namespace {

const auto memory_url = evstore::parse_database_url("sqlite::memory:");

// One in-memory database behind a pool of one connection, optionally migrated.
struct memory_database {
  explicit memory_database(bool migrated) {
    evstore::pool_settings settings;
    settings.max_size = 1;
    pool = std::make_unique<connection_pool>(
        [] { return evstore::connection::open(evstore::test::default_plugins(), memory_url, {}); },
        settings);
    if (migrated) {
      auto lease = pool->acquire();
      evstore::migrator(*lease, {}, {}).up();
    }
  }
  std::unique_ptr<connection_pool> pool;
};

evstore::health_options options(std::chrono::milliseconds timeout,
                                std::chrono::milliseconds cache_for) {
  evstore::health_options o;
  o.timeout = timeout;
  o.cache_for = cache_for;
  return o;
}

}  // namespace

TEST(health_report, json_has_the_documented_fields_a_3_decimal_latency_and_utc_microseconds) {
  evstore::health_report report;
  report.status = health_status::degraded;
  report.reason = "1 migration pending (latest evstore:2)";
  report.backend = "postgresql";
  report.server_version = "15.4";
  report.latency = std::chrono::microseconds{1234};
  report.schema = evstore::health_schema{"evstore:1", "evstore:2", 1, 0};
  report.pool.size = 3;
  report.pool.max_size = 8;
  report.pool.idle = 1;
  report.pool.in_use = 2;
  report.pool.waiting = 0;
  report.checked_at = std::chrono::system_clock::time_point{} + std::chrono::seconds{1714566896} +
                      std::chrono::microseconds{7};
  report.pooler = evstore::pooler_mode::transaction;
  report.replicas = {{.name = "standby:5432/app",
                      .state = evstore::replica_state::lagging,
                      .reason = "7000 ms behind",
                      .replayed = 1000,
                      .lag_bytes = 4096,
                      .lag = std::chrono::milliseconds{7000},
                      .reads = 12}};
  const auto json = report.to_json();
  const std::string expected =
      R"x({"backend":"postgresql","checked_at":"2024-05-01T12:34:56.000007Z",)x"
      R"x("latency_ms":1.234,"pool":{"idle":1,"in_use":2,"max":8,"size":3,"waiting":0},)x"
      R"x("pooler":"transaction","reason":"1 migration pending (latest evstore:2)",)x"
      R"x("replicas":[{"lag_bytes":4096,"lag_ms":7000,"name":"standby:5432/app","reads":12,)x"
      R"x("reason":"7000 ms behind","state":"lagging"}],)x"
      R"x("schema":{"current":"evstore:1","latest":"evstore:2","pending":1},)x"
      R"x("server_version":"15.4","status":"degraded"})x";
  EXPECT_EQ(json.dump(), expected);
}

TEST(health_report, a_down_report_has_null_for_what_the_check_did_not_reach) {
  evstore::health_report report;
  report.status = health_status::down;
  report.reason = "timed out after 2000 ms";
  report.backend = "sqlite";
  const auto json = report.to_json();
  EXPECT_EQ(json["status"], "down");
  EXPECT_TRUE(json["server_version"].is_null());
  EXPECT_TRUE(json["latency_ms"].is_null());
  EXPECT_TRUE(json["schema"].is_null());
  EXPECT_EQ(json["pool"]["size"], 0);
}

TEST(health_checker, a_migrated_database_is_up_and_an_empty_one_degraded) {
  memory_database migrated(true);
  health_checker up(*migrated.pool, memory_url, "sqlite");
  const auto report = up.check();
  EXPECT_EQ(report.status, health_status::up) << report.reason;
  EXPECT_TRUE(report.reason.empty());
  EXPECT_EQ(report.backend, "sqlite");
  EXPECT_TRUE(report.server_version.starts_with("3.")) << report.server_version;
  ASSERT_TRUE(report.latency);
  ASSERT_TRUE(report.schema);
  EXPECT_EQ(report.schema->current, "evstore:2");
  EXPECT_EQ(report.schema->latest, "evstore:2");
  EXPECT_EQ(report.schema->pending, 0U);
  EXPECT_EQ(report.pool.max_size, 1U);

  memory_database empty(false);
  health_checker degraded(*empty.pool, memory_url, "sqlite");
  const auto pending = degraded.check();
  EXPECT_EQ(pending.status, health_status::degraded);
  EXPECT_EQ(pending.reason, "2 migrations pending (latest evstore:2)");
  EXPECT_EQ(pending.schema->current, "");
}

TEST(health_checker, an_exhausted_pool_is_down_at_the_timeout_not_the_pools) {
  memory_database db(true);  // the pool's own acquire_timeout is 5 s
  health_checker checker(*db.pool, memory_url, "sqlite", options(200ms, 0ms));
  auto held = db.pool->acquire();
  const auto start = steady::now();
  const auto report = checker.check();
  const auto took = steady::now() - start;
  EXPECT_EQ(report.status, health_status::down);
  EXPECT_EQ(report.reason, "timed out after 200 ms waiting for a pooled connection");
  EXPECT_GE(took, 190ms);  // the check's own waits end on the millisecond before the deadline
  EXPECT_LT(took, 600ms);
  EXPECT_EQ(checker.statistics().checks[2], 1U);
  held = {};
  // The late check is gone by now or soon; the next one finds the connection.
  bool up = false;
  for (int i = 0; i < 50 && !up; ++i) {
    up = checker.check().status == health_status::up;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(up);
}

TEST(health_checker, a_fresh_report_comes_from_the_cache) {
  memory_database db(true);
  health_checker checker(*db.pool, memory_url, "sqlite", options(2000ms, 300ms));
  const auto first = checker.check();
  const auto second = checker.check();
  EXPECT_EQ(first.checked_at, second.checked_at);
  EXPECT_EQ(checker.statistics().cache_hits, 1U);
  std::this_thread::sleep_for(350ms);
  EXPECT_NE(checker.check().checked_at, first.checked_at);
  const auto stats = checker.statistics();
  EXPECT_EQ(stats.checks[0], 2U);
  EXPECT_EQ(stats.duration_histogram.back(), 2U);
}

TEST(health_checker, callers_arriving_during_a_check_share_its_result) {
  memory_database db(true);
  health_checker checker(*db.pool, memory_url, "sqlite", options(3000ms, 0ms));
  auto held = db.pool->acquire();  // the check waits for this connection
  std::vector<std::future<evstore::health_report>> callers;
  for (int i = 0; i < 6; ++i) {
    callers.push_back(std::async(std::launch::async, [&] { return checker.check(); }));
  }
  std::this_thread::sleep_for(300ms);
  held = {};
  std::vector<evstore::health_report> reports;
  for (auto& caller : callers) {
    reports.push_back(caller.get());
  }
  for (const auto& report : reports) {
    EXPECT_EQ(report.status, health_status::up) << report.reason;
    EXPECT_EQ(report.checked_at, reports.front().checked_at);
  }
  EXPECT_EQ(checker.statistics().checks[0], 1U);
}

TEST(health_checker, reasons_never_show_the_url_or_its_password) {
  const auto url = evstore::parse_database_url(
      "postgresql://app:" + evstore::percent_encode("s3cr:t@/%") + "@db.example:5432/app");
  evstore::pool_settings settings;
  settings.max_size = 1;
  connection_pool failing(
      [url]() -> evstore::connection {
        throw evstore::connection_error("postgresql: cannot connect to " + url.redacted() +
                                            ": password \"s3cr:t@/%\" " + "rejected\n  (uri " +
                                            url.text_with_password() + ")",
                                        "", "postgresql");
      },
      settings);
  health_checker checker(failing, url, "postgresql", options(1000ms, 0ms));
  const auto report = checker.check();
  EXPECT_EQ(report.status, health_status::down);
  EXPECT_EQ(report.reason,
            "connection error: postgresql: cannot connect to the database: password \"***\" "
            "rejected (uri the database)");
  EXPECT_EQ(report.backend, "postgresql");
}

TEST(health_checker, a_non_positive_timeout_or_negative_cache_time_is_refused) {
  memory_database db(false);
  EXPECT_THROW(health_checker(*db.pool, memory_url, "sqlite", options(0ms, 0ms)),
               evstore::config_error);
  EXPECT_THROW(health_checker(*db.pool, memory_url, "sqlite", options(100ms, -1ms)),
               evstore::config_error);
}

TEST(prometheus_text, every_family_has_help_and_type_and_histograms_end_in_inf) {
  memory_database db(true);
  health_checker checker(*db.pool, memory_url, "sqlite");
  const auto report = checker.check();
  const auto text = evstore::prometheus_text(db.pool->metrics(), {}, checker.statistics(), report);
  EXPECT_NE(text.find("# TYPE evstore_pool_size gauge\nevstore_pool_size 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE evstore_pool_acquire_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("evstore_pool_acquire_seconds_bucket{le=\"+Inf\"} "), std::string::npos);
  EXPECT_NE(text.find("evstore_health_check_duration_seconds_bucket{le=\"0.001\"} "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("evstore_health_status{status=\"up\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("evstore_health_checks_total{status=\"up\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("evstore_pooler_info{mode=\"none\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(health_checker, every_report_names_the_pooler_it_was_given) {
  memory_database db(true);
  health_checker checker(*db.pool, memory_url, "sqlite", {.pooler = evstore::pooler_mode::session});
  const auto report = checker.check();
  EXPECT_EQ(report.pooler, evstore::pooler_mode::session);
  EXPECT_EQ(report.to_json().at("pooler"), "session");
  const auto text = evstore::prometheus_text(db.pool->metrics(), {}, checker.statistics(), report);
  EXPECT_NE(
      text.find("# TYPE evstore_pooler_info gauge\nevstore_pooler_info{mode=\"session\"} 1\n"),
      std::string::npos)
      << text;
}

TEST(health_checker, a_read_replica_that_is_not_up_makes_a_report_degraded_not_down) {
  memory_database db(true);
  evstore::health_options checked;
  checked.cache_for = std::chrono::milliseconds(0);
  std::vector<evstore::replica_status> replicas = {
      {.name = "r1:5432/app", .state = evstore::replica_state::up},
      {.name = "r2:5432/app", .state = evstore::replica_state::down, .reason = "refused"}};
  checked.replicas = [&](std::chrono::milliseconds wait) {
    EXPECT_GT(wait.count(), 0) << "what is left of the check's time";
    return replicas;
  };
  health_checker checker(*db.pool, memory_url, "sqlite", checked);
  const auto report = checker.check();
  EXPECT_EQ(report.status, health_status::degraded);
  EXPECT_EQ(report.reason, "read replica r2:5432/app is down: refused");
  ASSERT_EQ(report.to_json().at("replicas").size(), 2U);
  EXPECT_EQ(report.to_json().at("replicas").at(1).at("state"), "down");

  replicas.at(1).state = evstore::replica_state::up;
  EXPECT_EQ(checker.check().status, health_status::up);
}
