// Across a primary failover, on a real pg_auto_failover cluster that the test command starts
// (scripts/pg-ha-cluster.sh: a monitor and two data nodes with synchronous replication;
// EVSTORE_TEST_HA_URL lists both nodes with target_session_attrs=read-write). The primary is
// killed, keeper and postmaster, under a concurrent write load: writes must succeed again
// within 30 s, and the new primary must hold every acknowledged write, none twice, with every
// failure a typed evstore error.

#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/store.hpp>

#include "process.hpp"
#include "write_ledger.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Runs pg-ha-cluster.sh with `action` on the test command's cluster; returns its stdout.
std::string cluster(const std::string& action) {
  const auto result = evstore::test::run_process(
      {"/bin/bash", EVSTORE_SOURCE_DIR "/scripts/pg-ha-cluster.sh", action,
       evstore::test::required_env("EVSTORE_TEST_HA_DIR")},
      {{"PATH", std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin"}}, ".");
  EXPECT_EQ(result.exit_code, 0) << action << ": " << result.err;
  return result.out.substr(0, result.out.find('\n'));
}

}  // namespace

TEST(failover, writes_resume_on_the_new_primary_within_30_s_and_keep_every_acknowledged_write) {
  const auto url = evstore::parse_database_url(evstore::test::required_env("EVSTORE_TEST_HA_URL"));
  evstore::store_options options;
  // A connection to the dead node fails at once (refused); what is left of a call's time goes
  // to the next attempt, which libpq makes on the next host.
  options.connect.connect_timeout = 2s;
  options.call_timeout = 10s;
  auto store = evstore::store::open(url, options);
  (void)store->migrate();
  auto setup = evstore::open_connection(evstore::test::default_plugins(), url, {});
  // A rerun on the same cluster starts from an empty ledger.
  setup.execute("DELETE FROM events WHERE title LIKE 'ledger %'");

  const auto primary_before = cluster("primary");
  evstore::test::write_ledger ledger(*store, 4);
  ASSERT_TRUE(ledger.wait_for_ok(40, 15s)) << evstore::test::summary(ledger.records());
  const auto killed = cluster("kill-primary");
  const auto since = steady::now();
  EXPECT_EQ(killed, primary_before);
  const auto first = ledger.first_ok_after(since, 30s);
  ASSERT_TRUE(first.has_value()) << "no write succeeded within 30 s of the kill: "
                                 << evstore::test::summary(ledger.records());
  std::cout << "writes succeeded again "
            << std::chrono::duration_cast<std::chrono::milliseconds>(*first - since).count()
            << " ms after the primary was killed\n";
  // Writes go on for a while on the new primary before the books are closed.
  ASSERT_TRUE(ledger.wait_for_ok(static_cast<std::int64_t>(ledger.records().size()) + 40, 15s));
  ledger.stop();

  const auto records = ledger.records();
  auto check = evstore::open_connection(evstore::test::default_plugins(), url, {});
  for (const auto& problem : evstore::test::check_ledger(check, records)) {
    ADD_FAILURE() << problem;
  }
  std::cout << "ledger: " << evstore::test::summary(records) << '\n';
  EXPECT_NE(cluster("primary"), killed) << "the standby was promoted";
}
