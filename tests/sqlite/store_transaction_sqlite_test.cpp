// store.transaction on SQLite, as to what reaches its caller: a commit_unknown thrown by its
// work (a unit of work nested in it) is neither retried nor renamed a timeout, and the store's
// own repositories used inside a transaction of a one-connection store fail at once with
// pool_reentry instead of waiting out the acquire timeout for the connection it holds.

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/store.hpp>

#include "expect_error.hpp"
#include "process.hpp"

using namespace std::chrono_literals;
using evstore::test::expect_exact_error;
using steady = std::chrono::steady_clock;

namespace {

std::unique_ptr<evstore::store> migrated_store(const std::string& url,
                                               evstore::store_options options) {
  options.retry.base_delay = 1ms;
  auto store = evstore::store::open(evstore::parse_database_url(url), std::move(options));
  (void)store->migrate();
  return store;
}

// sqlite::memory:, which has one connection, with an acquire timeout far longer than any of
// the failures below may take.
std::unique_ptr<evstore::store> one_connection_store() {
  evstore::store_options options;
  options.pool.acquire_timeout = 10s;
  return migrated_store("sqlite::memory:", options);
}

evstore::new_event an_event(const std::string& title) {
  return {.title = title, .start_time = evstore::timestamp(1767225600000000us)};
}

// What a unit of work nested in the work of a transaction (on this store or another) throws
// when its own COMMIT went unanswered.
evstore::commit_unknown nested_commit_unknown() {
  return evstore::commit_unknown("a nested unit of work lost its connection after COMMIT was sent",
                                 "08006", "postgresql");
}

}  // namespace

TEST(store_transaction, a_commit_unknown_thrown_by_its_work_is_passed_on_and_never_retried) {
  auto store = one_connection_store();
  int runs = 0;
  const auto message = expect_exact_error<evstore::commit_unknown>(
      [&] {
        store->transaction([&](evstore::transaction& tx) {
          ++runs;
          (void)tx.events().create(an_event("enclosing"));
          throw nested_commit_unknown();
        });
      },
      evstore::error_category::commit_unknown);
  EXPECT_NE(message.find("nested unit of work"), std::string::npos) << message;
  EXPECT_EQ(runs, 1) << "a unit of work whose commit outcome is unknown was run again";
  const auto stats = store->statistics();
  EXPECT_EQ(stats.transaction_retries, 0U);
  EXPECT_EQ(stats.transactions_failed, 1U);
  EXPECT_EQ(stats.commit_unknown, 0U) << "the enclosing transaction never sent COMMIT";
  // Its own writes were rolled back, on a connection that was kept: a lost connection would
  // have taken the in-memory database with it.
  EXPECT_EQ(store->metrics().destroyed_broken, 0U);
  EXPECT_EQ(store->events().count({}), 0);
}

TEST(store_transaction, a_commit_unknown_thrown_by_its_work_past_its_call_timeout_stays_one) {
  const evstore::test::temp_dir dir;
  evstore::store_options options;
  options.call_timeout = 200ms;
  auto store = migrated_store("sqlite://" + (dir.path() / "deadline.db").string(), options);
  int runs = 0;
  (void)expect_exact_error<evstore::commit_unknown>(
      [&] {
        store->transaction([&](evstore::transaction&) {
          ++runs;
          // The enclosing transaction's deadline passes while the nested unit runs.
          std::this_thread::sleep_for(400ms);
          throw nested_commit_unknown();
        });
      },
      evstore::error_category::commit_unknown);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(store->statistics().transactions_failed, 1U);
  EXPECT_NO_THROW((void)store->events().create(an_event("after")));
}

TEST(store_transaction, the_stores_repositories_inside_one_on_one_connection_fail_at_once) {
  auto store = one_connection_store();
  const auto start = steady::now();
  const auto message = expect_exact_error<evstore::pool_reentry>(
      [&] {
        store->transaction([&](evstore::transaction& tx) {
          (void)tx.events().create(an_event("inside"));
          (void)store->events().count({});  // the store's, not tx's: a second connection
        });
      },
      evstore::error_category::config);
  EXPECT_LT(steady::now() - start, 1s) << "waited for the acquire timeout of 10 s";
  EXPECT_NE(message.find("tx.events()"), std::string::npos) << message;
  EXPECT_NE(message.find("max_size"), std::string::npos) << message;

  // The transaction was rolled back, and the store serves at once again.
  EXPECT_EQ(store->events().count({}), 0);
  (void)store->transaction(
      [&](evstore::transaction& tx) { return tx.events().create(an_event("after")); });
  EXPECT_EQ(store->events().count({}), 1);
  const auto metrics = store->metrics();
  EXPECT_EQ(metrics.in_use, 0U);
  EXPECT_EQ(metrics.timeouts, 0U);
  EXPECT_EQ(metrics.destroyed_broken, 0U);
}

TEST(store_transaction, a_transaction_inside_one_on_one_connection_fails_at_once) {
  auto store = one_connection_store();
  int inner_runs = 0;
  const auto start = steady::now();
  (void)expect_exact_error<evstore::pool_reentry>(
      [&] {
        store->transaction([&](evstore::transaction& tx) {
          (void)tx.events().create(an_event("outer"));
          store->transaction([&](evstore::transaction& inner) {
            ++inner_runs;
            (void)inner.events().create(an_event("inner"));
          });
        });
      },
      evstore::error_category::config);
  EXPECT_LT(steady::now() - start, 1s) << "waited for the acquire timeout of 10 s";
  EXPECT_EQ(inner_runs, 0);
  EXPECT_EQ(store->statistics().transaction_retries, 0U) << "pool_reentry is not retried";
  EXPECT_EQ(store->events().count({}), 0);
  EXPECT_EQ(store->metrics().in_use, 0U);
}
