// Reads routed to a real streaming standby of the test server, never older than their
// caller's writes: replay paused and resumed on the standby makes its lag deterministic, and
// the per-target read counters say which server answered.

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/conformance/migrator_suite.hpp>
#include <evstore/conformance/native_statement_suite.hpp>
#include <evstore/conformance/repository_suite.hpp>
#include <evstore/error.hpp>
#include <evstore/health.hpp>
#include <evstore/prometheus.hpp>
#include <evstore/store.hpp>

#include "fresh_database.hpp"
#include "process.hpp"
#include "standby.hpp"

namespace {

using namespace std::chrono_literals;

evstore::new_event an_event(const std::string& title) {
  evstore::new_event e;
  e.title = title;
  e.start_time = evstore::timestamp(1767225600000000us);
  return e;
}

std::uint64_t standby_reads(const evstore::store& store) {
  return store.statistics().replicas.at(0).reads;
}

// Pauses the standby's replay for a test, and resumes it however the test ends.
class replica_routing : public ::testing::Test {
 protected:
  void TearDown() override { evstore::test::on_standby("SELECT pg_wal_replay_resume()"); }

  static void pause() { evstore::test::on_standby("SELECT pg_wal_replay_pause()"); }
  static void resume() { evstore::test::on_standby("SELECT pg_wal_replay_resume()"); }

  evstore::test::fresh_postgresql_database database_{"replica"};
};

// The conformance suite, unchanged, with every read routed to the standby when it has
// replayed the suite's writes: a read that waits for replay rather than going to the primary
// proves each test's reads see its writes.
class replicated_database final : public evstore::conformance::database_handle {
 public:
  [[nodiscard]] std::string url() const override {
    auto url = database_.url();
    url.params = {{"read_your_writes_wait", "5"}, {"replica_check_interval", "0.02"}};
    return url.text_with_password();
  }
  [[nodiscard]] std::string direct_url() const override {
    return database_.url().text_with_password();
  }
  [[nodiscard]] std::vector<std::string> read_urls() const override {
    return {evstore::test::standby_url(database_.name()).text_with_password()};
  }

 private:
  evstore::test::fresh_postgresql_database database_{"replica_conformance"};
};

}  // namespace

const evstore::conformance::backend_context replica_context{
    .name = "postgresql",
    .fresh_database = [] { return std::make_unique<replicated_database>(); },
    .capabilities = {evstore::conformance::capability::transactional_ddl,
                     evstore::conformance::capability::skip_locked},
    .evstore_command = EVSTORE_CLI};

using evstore::conformance::migrator_conformance;
using evstore::conformance::native_statement_conformance;
using evstore::conformance::repository_conformance;

INSTANTIATE_TEST_SUITE_P(replica, migrator_conformance, ::testing::Values(replica_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(replica, repository_conformance, ::testing::Values(replica_context),
                         [](const auto& param_info) { return param_info.param.name; });
INSTANTIATE_TEST_SUITE_P(replica, native_statement_conformance, ::testing::Values(replica_context),
                         [](const auto& param_info) { return param_info.param.name; });

TEST_F(replica_routing, a_read_is_served_by_the_standby_once_it_has_replayed_the_callers_write) {
  auto store = evstore::test::replica_store(database_.url());
  auto scope = store->scope();
  const auto created = scope.events().create(an_event("replicated"));
  const auto position = evstore::test::position_of(scope);
  EXPECT_GT(position, 0U) << "the write's position on the primary";
  ASSERT_TRUE(evstore::test::eventually([&] { return evstore::test::replayed(*store, position); }));

  const auto primary_before = store->statistics().primary_reads;
  EXPECT_EQ(scope.events().get(created.id), created);
  EXPECT_EQ(scope.events().count({}), 1);
  EXPECT_EQ(scope.media().count_by_event(created.id), 0);
  EXPECT_EQ(standby_reads(*store), 3U);
  EXPECT_EQ(store->statistics().primary_reads, primary_before);
  EXPECT_EQ(store->statistics().replica_fallbacks, 0U);
}

TEST_F(replica_routing, while_replay_is_paused_a_read_after_a_write_goes_to_the_primary) {
  auto store = evstore::test::replica_store(database_.url());
  pause();
  auto scope = store->scope();
  const auto created = scope.events().create(an_event("written while paused"));

  EXPECT_EQ(scope.events().get(created.id), created) << "read from the primary";
  EXPECT_EQ(standby_reads(*store), 0U);
  EXPECT_EQ(store->statistics().replica_fallbacks, 1U);
  EXPECT_EQ(store->scope().events().get(created.id), std::nullopt)
      << "a caller that wrote nothing reads from the standby, which has not replayed the row";
  EXPECT_EQ(standby_reads(*store), 1U);

  resume();
  ASSERT_TRUE(evstore::test::eventually(
      [&] { return evstore::test::replayed(*store, evstore::test::position_of(scope)); }));
  EXPECT_EQ(scope.events().get(created.id), created) << "read from the standby";
  EXPECT_EQ(standby_reads(*store), 2U);
  EXPECT_EQ(store->statistics().replica_fallbacks, 1U);
}

TEST_F(replica_routing, a_read_waits_for_replay_up_to_read_your_writes_wait) {
  evstore::store_options options;
  options.replicas.read_your_writes_wait = 10s;
  auto store = evstore::test::replica_store(database_.url(), options);
  pause();
  auto scope = store->scope();
  const auto created = scope.events().create(an_event("waited for"));
  std::thread resumer([] {
    std::this_thread::sleep_for(300ms);
    resume();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto read = scope.events().get(created.id);
  const auto waited = std::chrono::steady_clock::now() - start;
  resumer.join();
  EXPECT_EQ(read, created);
  EXPECT_GE(waited, 250ms) << "the read waited for the standby";
  EXPECT_EQ(standby_reads(*store), 1U);
  EXPECT_EQ(store->statistics().replica_fallbacks, 0U);
}

TEST_F(replica_routing, a_token_carries_the_callers_position_to_another_store) {
  auto writer = evstore::test::replica_store(database_.url());
  auto reader = evstore::test::replica_store(database_.url());
  pause();
  auto scope = writer->scope();
  const auto created = scope.events().create(an_event("carried"));

  auto carried = reader->scope(scope.token());
  EXPECT_EQ(carried.events().get(created.id), created);
  EXPECT_EQ(reader->statistics().replica_fallbacks, 1U) << "the standby had not replayed it";
  EXPECT_EQ(reader->scope().events().get(created.id), std::nullopt) << "without the token";
  EXPECT_THROW((void)reader->scope("rw1-not-a-position"), evstore::validation_error);
}

TEST_F(replica_routing, the_store_itself_is_a_caller_and_on_primary_skips_the_replicas) {
  auto store = evstore::test::replica_store(database_.url());
  pause();
  const auto created = store->events().create(an_event("the store's own"));
  EXPECT_EQ(store->events().get(created.id), created);
  EXPECT_EQ(store->statistics().replica_fallbacks, 1U);

  resume();
  auto primary_reads = store->statistics().primary_reads;
  EXPECT_EQ(store->on_primary().events().get(created.id), created);
  EXPECT_EQ(store->statistics().primary_reads, primary_reads + 1);
  EXPECT_EQ(store->statistics().replica_fallbacks, 1U) << "not a fallback: asked for";
  EXPECT_EQ(standby_reads(*store), 0U);
}

TEST_F(replica_routing, a_standby_behind_max_replica_lag_leaves_the_rotation_until_it_catches_up) {
  evstore::store_options options;
  options.replicas.max_lag = 300ms;
  auto store = evstore::test::replica_store(database_.url(), options);
  pause();
  (void)store->on_primary().events().create(an_event("moves the primary on"));
  ASSERT_TRUE(evstore::test::eventually(
      [&] { return store->replicas().at(0).state == evstore::replica_state::lagging; }));
  const auto lagging = store->replicas().at(0);
  EXPECT_GT(lagging.lag, 300ms);
  EXPECT_GT(lagging.lag_bytes, 0U);
  EXPECT_NE(lagging.reason.find("more than the 300 ms allowed"), std::string::npos)
      << lagging.reason;
  EXPECT_EQ(store->scope().events().count({}), 1) << "a fresh caller, from the primary";
  EXPECT_EQ(standby_reads(*store), 0U);

  const auto metrics = evstore::prometheus_text(store->metrics(), store->statistics(), {}, {});
  const auto name = store->replicas().at(0).name;
  EXPECT_NE(metrics.find("evstore_replica_state{replica=\"" + name + "\",state=\"lagging\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("evstore_reads_total{target=\"primary\"}"), std::string::npos);
  EXPECT_NE(metrics.find("evstore_replica_lag_bytes{replica=\"" + name + "\"}"), std::string::npos);

  resume();
  ASSERT_TRUE(evstore::test::eventually(
      [&] { return store->replicas().at(0).state == evstore::replica_state::up; }));
  EXPECT_EQ(store->scope().events().count({}), 1);
  EXPECT_EQ(standby_reads(*store), 1U);
}

TEST_F(replica_routing, a_stopped_standby_is_down_reads_use_the_primary_and_it_rejoins) {
  evstore::store_options options;
  options.call_timeout = 5s;
  auto store = evstore::test::replica_store(database_.url(), options);
  const auto created = store->on_primary().events().create(an_event("before the outage"));
  ASSERT_TRUE(evstore::test::eventually(
      [&] { return store->scope().events().get(created.id).has_value(); }));

  evstore::health_options health;
  health.cache_for = 0ms;
  health.replicas = [&](std::chrono::milliseconds wait) { return store->replicas(wait); };
  evstore::health_checker checker(store->pool(), database_.url(), "postgresql", health);

  evstore::test::standby_script("down");
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(store->scope().events().get(created.id), created);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
  ASSERT_TRUE(evstore::test::eventually(
      [&] { return store->replicas().at(0).state == evstore::replica_state::down; }));
  const auto report = checker.check();
  EXPECT_EQ(report.status, evstore::health_status::degraded) << report.reason;
  EXPECT_NE(report.reason.find("read replica " + store->replicas().at(0).name + " is down"),
            std::string::npos)
      << report.reason;
  const auto json = report.to_json();
  EXPECT_EQ(json["replicas"].at(0)["state"], "down");
  EXPECT_EQ(json.dump().find("://"), std::string::npos) << "no URL: " << json.dump();
  EXPECT_EQ(json.dump().find(evstore::test::required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD")),
            std::string::npos);

  evstore::test::standby_script("up");
  ASSERT_TRUE(evstore::test::eventually(
      [&] { return store->replicas().at(0).state == evstore::replica_state::up; }));
  const auto before = standby_reads(*store);
  EXPECT_EQ(store->scope().events().get(created.id), created);
  EXPECT_EQ(standby_reads(*store), before + 1) << "back in the rotation";
  EXPECT_EQ(checker.check().status, evstore::health_status::up);
}

TEST_F(replica_routing, a_scope_outliving_its_store_fails_as_a_closed_pool_and_checks_no_more) {
  auto store = evstore::test::replica_store(database_.url());
  auto scope = store->scope();
  const auto created = scope.events().create(an_event("before closing"));
  const auto name = store->replicas().at(0).name;
  store.reset();
  EXPECT_THROW((void)scope.events().get(created.id), evstore::connection_error);
  // The monitor stopped with the store: its connections to the standby are gone.
  auto standby = evstore::open_connection(evstore::test::default_plugins(),
                                          evstore::test::standby_url("postgres"), {});
  long long sessions = -1;
  EXPECT_TRUE(evstore::test::eventually(
      [&] {
        standby.session() << "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = :name",
            soci::use(database_.name()), soci::into(sessions);
        return sessions == 0;
      },
      5s))
      << sessions << " sessions on " << name;
}

TEST_F(replica_routing,
       a_read_waiting_on_a_hung_standby_goes_to_the_primary_within_the_check_timeout) {
  evstore::store_options options;
  options.replicas.read_your_writes_wait = 30s;
  auto store = evstore::test::replica_store(database_.url(), options);
  pause();
  auto scope = store->scope();
  const auto created = scope.events().create(an_event("written before the hang"));
  // Every process of the standby stops answering; the kernel still holds its sockets open.
  const auto stop = [](const char* signal) {
    const auto pid_file =
        evstore::test::required_env("EVSTORE_TEST_STANDBY_DIR") + "/data/postmaster.pid";
    const auto command = std::string("pid=$(head -1 ") + pid_file + ") && kill -" + signal +
                         " \"$pid\" && pkill -" + signal + " -P \"$pid\"";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  };
  stop("STOP");
  const auto start = std::chrono::steady_clock::now();
  const auto read = scope.events().get(created.id);
  const auto took = std::chrono::steady_clock::now() - start;
  stop("CONT");
  EXPECT_EQ(read, created) << "from the primary";
  EXPECT_LT(took, 5s) << "bounded by the check timeout (1 s here), not the 30 s wait";
  EXPECT_EQ(store->statistics().replica_fallbacks, 1U);
}
