// Every statement has a deadline: the server's statement_timeout, which keeps the connection,
// and the client-side call_timeout, which interrupts a call the database does not answer
// in time and discards its connection. Slow statements are made by test-only triggers.

#include <chrono>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/store.hpp>

#include "expect_error.hpp"
#include "fresh_database.hpp"
#include "process.hpp"
#include "slow_commit.hpp"

using namespace std::chrono_literals;
using evstore::test::expect_exact_error;
using steady = std::chrono::steady_clock;

namespace {

evstore::new_event launch() {
  return {.title = "launch",
          .start_time = evstore::timestamp(std::chrono::microseconds(1767225600000000))};
}

// Inserting an event takes `seconds` on the server.
void slow_down_inserts(const evstore::database_url& url, double seconds) {
  auto conn = evstore::connection::open(evstore::test::default_plugins(), url, {});
  conn.execute(
      "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "PERFORM pg_sleep(" +
      std::to_string(seconds) + "); RETURN NEW; END $$");
  conn.execute(
      "CREATE TRIGGER test_slow_insert BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION "
      "test_slow_insert()");
}

// Committing a transaction that inserted an event takes 30 s on the server.
void slow_down_commits(const evstore::database_url& url) {
  auto conn = evstore::connection::open(evstore::test::default_plugins(), url, {});
  evstore::test::slow_down_commits(conn, 30);
}

// Creates an event, which must fail with exactly timeout_error in less than `bound`.
// @returns the error's message and SQLSTATE.
std::pair<std::string, std::string> expect_create_times_out(evstore::store& store,
                                                            std::chrono::milliseconds bound) {
  const auto start = steady::now();
  std::pair<std::string, std::string> got;
  try {
    (void)store.events().create(launch());
    ADD_FAILURE() << "the insert outlived its deadline";
  } catch (const evstore::error& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::timeout_error)) << e.what();
    got = {e.what(), e.native_code()};
  }
  EXPECT_LT(steady::now() - start, bound);
  return got;
}

std::unique_ptr<evstore::store> migrated_store(const evstore::database_url& url,
                                               evstore::store_options options) {
  auto store = evstore::store::open(url, std::move(options));
  (void)store->migrate();
  return store;
}

// A store whose only deadline is the client-side one: the server never cancels.
std::unique_ptr<evstore::store> store_with_only_call_timeout(const evstore::database_url& url,
                                                             std::chrono::milliseconds timeout) {
  evstore::store_options options;
  options.connect.statement_timeout = 0ms;
  options.call_timeout = timeout;
  return migrated_store(url, options);
}

}  // namespace

TEST(deadline,
     a_statement_past_statement_timeout_fails_with_timeout_error_and_keeps_its_connection) {
  const evstore::test::fresh_postgresql_database db("statement_timeout");
  evstore::store_options options;
  options.connect.statement_timeout = 300ms;
  options.pool.max_size = 1;
  auto store = migrated_store(db.url(), options);
  slow_down_inserts(db.url(), 5);

  const auto [message, code] = expect_create_times_out(*store, 3s);
  EXPECT_EQ(code, "57014") << message;
  EXPECT_EQ(store->metrics().destroyed_broken, 0U);
  EXPECT_EQ(store->events().count({}), 0);
}

TEST(deadline, a_call_past_call_timeout_is_interrupted_and_its_connection_discarded) {
  const evstore::test::fresh_postgresql_database db("call_timeout");
  auto store = store_with_only_call_timeout(db.url(), 500ms);
  slow_down_inserts(db.url(), 30);

  const auto start = steady::now();
  const auto [message, code] = expect_create_times_out(*store, 2s);
  EXPECT_GE(steady::now() - start, 500ms);
  EXPECT_NE(message.find("call timeout of 500 ms"), std::string::npos) << message;
  EXPECT_EQ(store->metrics().destroyed_broken, 1U);
  EXPECT_EQ(store->metrics().in_use, 0U);

  // The cancel request reached the server: the sleeping insert is gone, not running on.
  auto admin = evstore::connection::open(evstore::test::default_plugins(), db.url(), {});
  int sleeping = 1;
  for (int i = 0; i < 100 && sleeping > 0; ++i) {
    admin.session() << "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event = 'PgSleep'",
        soci::into(sleeping);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(sleeping, 0);
  admin.execute("DROP TRIGGER test_slow_insert ON events");
  EXPECT_NO_THROW((void)store->events().create(launch()));
}

TEST(deadline, a_transaction_whose_commit_outlives_call_timeout_reports_commit_unknown) {
  const evstore::test::fresh_postgresql_database db("commit_timeout");
  auto store = store_with_only_call_timeout(db.url(), 1000ms);
  slow_down_commits(db.url());

  const auto start = steady::now();
  (void)expect_exact_error<evstore::commit_unknown>(
      [&] {
        store->transaction([](evstore::transaction& tx) { (void)tx.events().create(launch()); });
      },
      evstore::error_category::commit_unknown);
  EXPECT_LT(steady::now() - start, 3s);
  EXPECT_EQ(store->metrics().destroyed_broken, 1U);
  EXPECT_EQ(store->statistics().commit_unknown, 1U);
}

TEST(deadline, a_nested_commit_unknown_past_the_enclosing_deadline_is_not_called_a_timeout) {
  const evstore::test::fresh_postgresql_database db("nested_commit_timeout");
  // Both transactions have the same call timeout, so the enclosing one's passes first: it
  // began first.
  auto store = store_with_only_call_timeout(db.url(), 1000ms);
  slow_down_commits(db.url());

  int inner_runs = 0;
  const auto start = steady::now();
  (void)expect_exact_error<evstore::commit_unknown>(
      [&] {
        store->transaction([&](evstore::transaction&) {
          store->transaction([&](evstore::transaction& inner) {
            ++inner_runs;
            (void)inner.events().create(launch());
          });
        });
      },
      evstore::error_category::commit_unknown);
  EXPECT_LT(steady::now() - start, 3s);
  EXPECT_EQ(inner_runs, 1) << "a unit of work whose commit outcome is unknown was run again";
  const auto stats = store->statistics();
  EXPECT_EQ(stats.commit_unknown, 1U);
  EXPECT_EQ(stats.transaction_retries, 0U);
}

namespace {

// A migrated SQLite store in `dir` with a call_timeout of 300 ms, whose inserts into events
// take seconds: a trigger that counts to a billion.
std::unique_ptr<evstore::store> sqlite_store_with_slow_inserts(const evstore::test::temp_dir& dir) {
  const auto url = evstore::parse_database_url("sqlite://" + (dir.path() / "slow.db").string());
  evstore::store_options options;
  options.call_timeout = 300ms;
  auto store = migrated_store(url, options);
  auto conn = evstore::connection::open(evstore::test::default_plugins(), url, {});
  conn.execute(
      "CREATE TRIGGER test_slow_insert BEFORE INSERT ON events BEGIN SELECT count(*) FROM "
      "(WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 1000000000) "
      "SELECT x FROM n); END");
  return store;
}

}  // namespace

TEST(deadline, a_sqlite_call_past_call_timeout_is_interrupted) {
  const evstore::test::temp_dir dir;
  auto store = sqlite_store_with_slow_inserts(dir);
  (void)expect_create_times_out(*store, 2s);
  EXPECT_EQ(store->events().count({}), 0);
}

TEST(deadline, a_transaction_interrupted_before_commit_is_a_timeout_counted_as_failed) {
  const evstore::test::temp_dir dir;
  auto store = sqlite_store_with_slow_inserts(dir);
  EXPECT_THROW(store->transaction([](evstore::transaction& tx) { tx.events().create(launch()); }),
               evstore::timeout_error);
  const auto stats = store->statistics();
  EXPECT_EQ(stats.transactions_failed, 1U);
  EXPECT_EQ(stats.transactions_committed, 0U);
  EXPECT_EQ(store->events().count({}), 0);
}

TEST(deadline, a_call_that_finishes_in_time_keeps_its_connection) {
  const evstore::test::temp_dir dir;
  evstore::store_options options;
  options.call_timeout = 2s;
  options.pool.max_size = 1;
  auto store = migrated_store(
      evstore::parse_database_url("sqlite://" + (dir.path() / "quick.db").string()), options);
  for (int i = 0; i < 200; ++i) {
    (void)store->events().create(launch());
  }
  EXPECT_EQ(store->metrics().destroyed_broken, 0U);
  EXPECT_EQ(store->metrics().created, 1U);
}
