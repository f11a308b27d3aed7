// store.transaction on SQLite, as to what reaches its caller: a commit_unknown thrown by its
// work (a unit of work nested in it) is neither retried nor renamed a timeout.

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

namespace {

std::unique_ptr<evstore::store> migrated_store(const std::string& url,
                                               evstore::store_options options) {
  options.retry.base_delay = 1ms;
  auto store = evstore::store::open(evstore::parse_database_url(url), std::move(options));
  (void)store->migrate();
  return store;
}

// sqlite::memory:, which has one connection.
std::unique_ptr<evstore::store> one_connection_store() {
  return migrated_store("sqlite::memory:", {});
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
