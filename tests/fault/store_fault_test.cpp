// The store while its PostgreSQL server misbehaves: restarted, crashed, its backends killed,
// hung, its idle sessions killed, a commit's answer lost. Each test runs a write load that
// records every operation's outcome (write_ledger.hpp) and then holds the table to it.

#include <fcntl.h>
#include <sched.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/store.hpp>

#include "expect_error.hpp"
#include "private_postgresql.hpp"
#include "process.hpp"
#include "slow_commit.hpp"
#include "write_ledger.hpp"

using namespace std::chrono_literals;
using evstore::test::write_ledger;
using steady = std::chrono::steady_clock;

namespace {

constexpr std::string_view application = "evstore-fault";

// One private server for the tests of this file (they run one at a time, each in its own
// process under ctest); each test empties the tables first.
class store_fault : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<evstore::test::private_postgresql>();
    url_ = evstore::parse_database_url(server_->url());
  }

  // Short deadlines, so that the test sees them pass.
  static evstore::store_options options() {
    evstore::store_options o;
    o.pool.max_size = 4;
    o.pool.acquire_timeout = 2s;
    o.connect.connect_timeout = 2s;
    o.connect.statement_timeout = 1s;
    o.connect.application_name = std::string(application);
    o.call_timeout = 2s;
    o.connect_retry_budget = 1s;
    o.retry.budget = 3s;
    return o;
  }

  // The longest a store call may take under options(): the retry budget, then one more
  // attempt (acquire, then the call), and scheduling slack.
  static std::chrono::milliseconds call_bound() {
    const auto o = options();
    return o.retry.budget + o.pool.acquire_timeout + o.call_timeout + 1s;
  }

  std::unique_ptr<evstore::store> open_store(evstore::store_options o = options()) {
    auto store = evstore::store::open(url_, std::move(o));
    (void)store->migrate();
    return store;
  }

  // A connection of the test's own, retried for up to 30 s while the server recovers.
  evstore::connection admin() {
    const auto until = steady::now() + 30s;
    for (;;) {
      try {
        return evstore::connection::open(evstore::test::default_plugins(), url_, {});
      } catch (const evstore::connection_error&) {
        if (steady::now() > until) {
          throw;
        }
        std::this_thread::sleep_for(50ms);
      }
    }
  }

  // Waits until the server accepts connections again after a crash; returns that moment.
  steady::time_point accepting_again() {
    (void)admin();
    return steady::now();
  }

  // The process ids of the store's sessions at the server.
  std::vector<int> store_backends(const std::string& state_condition = "true") {
    auto conn = admin();
    std::vector<int> pids;
    int pid = 0;
    // Named: SOCI reads a bound value when the statement runs, after this line.
    const std::string app(application);
    soci::statement rows = (conn.session().prepare << "SELECT pid FROM pg_stat_activity WHERE "
                                                      "application_name = :app AND " +
                                                          state_condition,
                            soci::use(app), soci::into(pid));
    rows.execute();
    while (rows.fetch()) {
      pids.push_back(pid);
    }
    return pids;
  }

  void terminate(const std::vector<int>& pids) {
    auto conn = admin();
    for (const int pid : pids) {
      conn.execute("SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)");
    }
  }

  // Checks the table against what the ledger recorded and that no call outlived its bound.
  void expect_consistent(const write_ledger& ledger) {
    const auto records = ledger.records();
    auto conn = admin();
    for (const auto& problem : evstore::test::check_ledger(conn, records)) {
      ADD_FAILURE() << problem;
    }
    for (const auto& r : records) {
      EXPECT_LE(r.took, call_bound())
          << r.title << " took "
          << std::chrono::duration_cast<std::chrono::milliseconds>(r.took).count() << " ms ("
          << r.error_type << ")";
    }
    std::cout << "outcomes: " << evstore::test::summary(records) << "\n";
  }

  // Waits until the ledger acknowledges a write finished after `since`; expects it within
  // 10 s.
  static void expect_recovery(const write_ledger& ledger, steady::time_point since) {
    const auto first = ledger.first_ok_after(since, 10s);
    ASSERT_TRUE(first.has_value()) << "no write succeeded within 10 s of the server being back";
    std::cout << "recovered in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(*first - since).count()
              << " ms\n";
  }

  // Under a write load: starts an outage in which the server cannot answer, expects calls
  // made meanwhile to fail with an evstore error within call_bound(), ends the outage after
  // 3 s, expects writes to succeed within 10 s, and checks the ledger.
  void expect_outage_survived(const std::function<void()>& begin,
                              const std::function<void()>& end) {
    auto store = open_store();
    write_ledger ledger(*store, 4);
    ASSERT_TRUE(ledger.wait_for_ok(20, 10s));
    begin();
    std::vector<std::future<std::string>> reads;
    for (int i = 0; i < 4; ++i) {
      reads.push_back(std::async(std::launch::async, [&store] {
        try {
          (void)store->events().count({});
          return std::string("ok");
        } catch (const evstore::error& e) {
          return std::string(typeid(e).name());
        }
      }));
    }
    for (auto& read : reads) {
      ASSERT_EQ(read.wait_for(call_bound()), std::future_status::ready)
          << "a call outlived its deadline during the outage";
      EXPECT_NE(read.get(), "ok") << "a call succeeded during the outage";
    }
    std::this_thread::sleep_for(3s);
    end();
    expect_recovery(ledger, steady::now());
    ledger.stop();
    expect_consistent(ledger);
  }

  // Runs 2 * pool_max transactions at once; expects every one to succeed.
  static void expect_concurrent_calls_succeed(evstore::store& store) {
    const auto calls = 2 * store.metrics().max_size;
    std::vector<std::future<void>> done;
    for (std::size_t i = 0; i < calls; ++i) {
      done.push_back(std::async(std::launch::async, [&store, i] {
        store.transaction([i](evstore::transaction& tx) {
          (void)tx.events().create(
              {.title = "burst " + std::to_string(i), .start_time = evstore::timestamp{}});
        });
      }));
    }
    for (auto& call : done) {
      EXPECT_NO_THROW(call.get());
    }
  }

  std::unique_ptr<evstore::test::private_postgresql> server_;
  evstore::database_url url_;
};

// A network namespace of the test's own with loopback up, entered by the calling thread, and
// so by every thread and process it starts afterwards; left and deleted with this object.
class network_namespace {
 public:
  network_namespace() : name_("evstore-fault-" + std::to_string(getpid())) {
    shell("ip netns add " + name_);
    const int target = open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    original_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (target < 0 || original_ < 0 || setns(target, CLONE_NEWNET) != 0) {
      throw std::runtime_error("cannot enter the network namespace " + name_);
    }
    close(target);
    shell("ip link set lo up");
  }
  network_namespace(const network_namespace&) = delete;
  network_namespace& operator=(const network_namespace&) = delete;
  ~network_namespace() {
    setns(original_, CLONE_NEWNET);
    close(original_);
    std::system(("ip netns delete " + name_).c_str());
  }

  /// Drops every TCP segment to and from `port`: established connections hang, new ones
  /// are never answered.
  void partition(const std::string& port) {
    shell("iptables -A INPUT -p tcp --dport " + port + " -j DROP");
    shell("iptables -A INPUT -p tcp --sport " + port + " -j DROP");
  }
  void heal() { shell("iptables -F INPUT"); }

 private:
  static void shell(const std::string& command) {
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("failed: " + command);
    }
  }

  std::string name_;
  int original_ = -1;
};

// store_fault with the client and its server inside a network namespace of their own.
class store_partition : public store_fault {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "network namespaces and iptables need root";
    }
    network_ = std::make_unique<network_namespace>();
    store_fault::SetUp();
  }
  void TearDown() override {
    server_.reset();  // inside the namespace it was started in
    network_.reset();
  }

  std::unique_ptr<network_namespace> network_;
};

TEST_F(store_partition,
       every_call_returns_within_its_deadline_during_a_partition_and_recovers_after) {
  expect_outage_survived(
      [this] { network_->partition(server_->env("EVSTORE_TEST_POSTGRESQL_PORT")); },
      [this] { network_->heal(); });
}

TEST_F(store_fault, writes_succeed_within_10_s_of_a_fast_restart_and_of_a_crash) {
  auto store = open_store();
  write_ledger ledger(*store, 4);
  ASSERT_TRUE(ledger.wait_for_ok(20, 10s));
  for (const std::string mode : {"fast", "immediate"}) {
    server_->restart(mode);
    expect_recovery(ledger, steady::now());
  }
  ledger.stop();
  expect_consistent(ledger);
}

TEST_F(store_fault, killed_and_terminated_backends_are_replaced_and_then_every_call_succeeds) {
  auto store = open_store();
  {
    write_ledger ledger(*store, 4);
    ASSERT_TRUE(ledger.wait_for_ok(20, 10s));
    // kill -9 of one backend: the postmaster ends every session and recovers.
    const auto pids = store_backends();
    ASSERT_FALSE(pids.empty());
    ASSERT_EQ(kill(pids.front(), SIGKILL), 0);
    std::this_thread::sleep_for(200ms);  // the postmaster notices and restarts
    expect_recovery(ledger, accepting_again());
    // An active and an idle backend terminated.
    const auto active = store_backends("state = 'active'");
    const auto idle = store_backends("state = 'idle'");
    if (!active.empty()) {
      terminate({active.front()});
    }
    if (!idle.empty()) {
      terminate({idle.front()});
    }
    expect_recovery(ledger, steady::now());
    ledger.stop();
    expect_consistent(ledger);
  }
  expect_concurrent_calls_succeed(*store);
  // Every backend terminated while the pool is idle.
  ASSERT_FALSE(store_backends().empty());
  terminate(store_backends());
  expect_concurrent_calls_succeed(*store);
}

TEST_F(store_fault, idle_sessions_killed_by_the_server_do_not_fail_the_next_burst) {
  auto admin_conn = admin();
  admin_conn.execute("ALTER ROLE CURRENT_USER SET idle_session_timeout = '300ms'");
  auto store = open_store();
  expect_concurrent_calls_succeed(*store);
  std::this_thread::sleep_for(1s);  // every pooled session is killed by the server meanwhile
  EXPECT_TRUE(store_backends().empty());
  expect_concurrent_calls_succeed(*store);
}

TEST_F(store_fault,
       every_call_returns_within_its_deadline_while_the_server_hangs_and_recovers_after) {
  expect_outage_survived([this] { server_->hang(); }, [this] { server_->resume(); });
}

TEST_F(store_fault,
       a_backend_killed_during_commit_gives_commit_unknown_and_an_idempotent_retry_one_row) {
  auto store = open_store();
  auto conn = admin();
  // COMMIT sleeps in a deferred trigger: a window in which to kill the backend.
  evstore::test::slow_down_commits(conn, 0.8);
  const auto id = evstore::uuid::v7();
  const evstore::new_event event{
      .id = id, .title = "committed once", .start_time = evstore::timestamp{}};

  auto killer = std::async(std::launch::async, [&] {
    // The backend sleeping in the trigger (wait_event PgSleep) is inside COMMIT.
    for (int i = 0; i < 200; ++i) {
      const auto sleeping = store_backends("wait_event = 'PgSleep'");
      if (!sleeping.empty()) {
        EXPECT_EQ(kill(sleeping.front(), SIGKILL), 0);
        return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  });
  const auto message = evstore::test::expect_exact_error<evstore::commit_unknown>(
      [&] {
        store->transaction(
            [&](evstore::transaction& tx) { (void)tx.events().create_idempotent(event); });
      },
      evstore::error_category::commit_unknown);
  EXPECT_NE(message.find("after COMMIT was sent"), std::string::npos) << message;
  EXPECT_EQ(store->statistics().commit_unknown, 1U);
  EXPECT_EQ(store->statistics().transaction_retries, 0U);
  ASSERT_TRUE(killer.get()) << "COMMIT never reached the trigger";

  // The server recovers from the kill; the idempotent retry then leaves exactly one row.
  conn = admin();
  conn.execute("DROP TRIGGER test_slow_commit ON events");
  const auto stored = store->transaction(
      [&](evstore::transaction& tx) { return tx.events().create_idempotent(event); });
  EXPECT_EQ(stored.id, id);
  EXPECT_EQ(stored.title, "committed once");
  int rows = 0;
  conn.session() << "SELECT count(*) FROM events WHERE title = 'committed once'", soci::into(rows);
  EXPECT_EQ(rows, 1);
}

TEST_F(store_fault, connections_at_the_server_never_exceed_pool_max_under_saturation) {
  auto store = open_store();
  write_ledger ledger(*store, 12, 1ms);
  std::size_t most = 0;
  const auto until = steady::now() + 3s;
  while (steady::now() < until) {
    most = std::max(most, store_backends().size());
    std::this_thread::sleep_for(20ms);
  }
  ledger.stop();
  EXPECT_GT(most, 0U);
  EXPECT_LE(most, options().pool.max_size);
  expect_consistent(ledger);
}

}  // namespace
