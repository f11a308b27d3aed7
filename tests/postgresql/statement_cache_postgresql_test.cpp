// The statement cache as the PostgreSQL server sees it: prepared statements in the session,
// plans that a schema change breaks, and closing a connection whose server hangs.

#include <signal.h>

#include <chrono>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/migrator.hpp>
#include <evstore/store.hpp>

#include "fresh_database.hpp"
#include "one_connection_source.hpp"
#include "process.hpp"

namespace {

class statement_cache_postgresql : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = open(64);
    evstore::migrator engine(conn, {}, {});
    (void)engine.up();
  }

  evstore::connection open(std::size_t statement_cache_size) {
    evstore::connect_options options;
    options.statement_cache_size = statement_cache_size;
    return evstore::connection::open(evstore::test::default_plugins(), database_.url(), options);
  }

  static long long prepared_on_server(evstore::connection& conn) {
    long long count = 0;
    conn.session() << "SELECT count(*) FROM pg_prepared_statements", soci::into(count);
    return count;
  }

  static evstore::new_event sample() {
    return {.title = "cached",
            .start_time = evstore::timestamp(std::chrono::microseconds(1767225600000000))};
  }

  evstore::test::fresh_postgresql_database database_{"statement_cache"};
};

TEST_F(statement_cache_postgresql, a_hundred_identical_calls_keep_one_statement_on_the_server) {
  auto conn = open(64);
  auto events = evstore::test::events_on(conn);
  const auto created = events.create(sample());
  ASSERT_EQ(events.get(created.id), created);
  const auto prepared = prepared_on_server(conn);
  EXPECT_EQ(prepared, 2);  // the INSERT and the SELECT by id
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(events.get(created.id), created);
  }
  EXPECT_EQ(prepared_on_server(conn), prepared);
}

TEST_F(statement_cache_postgresql, repository_statements_are_prepared_natively_not_through_soci) {
  auto conn = open(64);
  auto events = evstore::test::events_on(conn);
  const auto created = events.create(sample());
  ASSERT_EQ(events.get(created.id), created);
  // The plugin's native statements are named evstore_<n>; SOCI would name them st_<n>.
  long long native = 0;
  conn.session() << "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'evstore\\_%'",
      soci::into(native);
  EXPECT_EQ(native, 2);
  EXPECT_EQ(prepared_on_server(conn), native);
}

TEST_F(statement_cache_postgresql, with_the_cache_off_no_statement_stays_prepared) {
  auto conn = open(0);
  auto events = evstore::test::events_on(conn);
  const auto created = events.create(sample());
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(events.get(created.id), created);
  }
  EXPECT_EQ(prepared_on_server(conn), 0);
}

TEST_F(statement_cache_postgresql, a_plan_broken_by_a_schema_change_fails_once_then_is_replaced) {
  auto conn = open(64);
  auto events = evstore::test::events_on(conn);
  const auto created = events.create(sample());
  ASSERT_EQ(events.get(created.id), created);
  // The kept SELECT's result type changes under it.
  conn.execute("ALTER TABLE events ALTER COLUMN title TYPE varchar(600)");
  try {
    (void)events.get(created.id);
    FAIL() << "the kept plan no longer fits the table";
  } catch (const evstore::error& e) {
    EXPECT_EQ(e.category(), evstore::error_category::database);
    EXPECT_EQ(e.native_code(), "0A000");
  }
  EXPECT_EQ(events.get(created.id), created);
  EXPECT_EQ(conn.statement_cache().failures, 1U);
}

TEST_F(statement_cache_postgresql,
       closing_a_connection_with_kept_statements_never_waits_for_a_hung_server) {
  auto conn = std::make_unique<evstore::connection>(open(64));
  auto events = evstore::test::events_on(*conn);
  const auto created = events.create(sample());
  ASSERT_EQ(events.get(created.id), created);
  int pid = 0;
  conn->session() << "SELECT pg_backend_pid()", soci::into(pid);
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const auto start = std::chrono::steady_clock::now();
  conn.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(::kill(pid, SIGCONT), 0);
  EXPECT_LT(took, std::chrono::seconds(1));
}

}  // namespace

namespace {

// On PostgreSQL a large add_many goes through COPY: its failures keep their SQLSTATE.
TEST_F(statement_cache_postgresql, a_copy_that_breaks_a_constraint_reports_its_sqlstate) {
  auto conn = open(64);
  auto events = evstore::test::events_on(conn);
  auto media = evstore::test::media_on(conn);
  const auto e = events.create(sample());
  std::vector<evstore::new_media> items(20);
  for (std::size_t i = 0; i < items.size(); ++i) {
    items[i].event_id = e.id;
    items[i].uri = "s3://bucket/" + std::to_string(i);
    items[i].captured_at = sample().start_time;
  }
  items[7].event_id = evstore::uuid::v7();
  try {
    (void)media.add_many(items);
    FAIL() << "the event does not exist";
  } catch (const evstore::constraint_violation& failure) {
    EXPECT_EQ(failure.native_code(), "23503");
  }
  items[7].event_id = e.id;
  items[3].id = evstore::uuid::v7();
  items[9].id = items[3].id;
  try {
    (void)media.add_many(items);
    FAIL() << "the id is taken";
  } catch (const evstore::constraint_violation& failure) {
    EXPECT_EQ(failure.native_code(), "23505");
  }
  EXPECT_EQ(media.count_by_event(e.id), 0);
  items[9].id.reset();
  const auto added = media.add_many(items);
  EXPECT_EQ(media.get(added.front().id), added.front());
  EXPECT_EQ(added.front().created_at, added.back().created_at);
}

}  // namespace

TEST_F(statement_cache_postgresql,
       a_kept_statement_gone_from_the_server_says_to_declare_a_transaction_pooler) {
  // What a transaction-mode pooler does to a client that did not declare it: the next call
  // lands on a server connection where the statement prepared earlier does not exist.
  auto conn = open(64);
  auto events = evstore::test::events_on(conn);
  const auto created = events.create(sample());
  ASSERT_EQ(events.get(created.id), created);
  conn.execute("DEALLOCATE ALL");
  try {
    (void)events.get(created.id);
    FAIL() << "the statement is gone";
  } catch (const evstore::error& e) {
    EXPECT_EQ(e.native_code(), "26000") << e.what();  // invalid_sql_statement_name
    EXPECT_NE(std::string(e.what()).find("set pooler=transaction in the URL or "
                                         "EVSTORE_POOLER=transaction"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(events.get(created.id), created) << "prepared again";
}

TEST_F(statement_cache_postgresql, behind_a_transaction_pooler_nothing_stays_prepared) {
  evstore::store_options options;
  options.connect.statement_cache_size = 64;
  auto url = database_.url();
  url.params.emplace_back("pooler", "transaction");
  auto conn = evstore::open_connection(evstore::test::default_plugins(), url, options);
  auto events = evstore::test::events_on(conn);
  const auto created = events.create(sample());
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(events.get(created.id), created);
  }
  EXPECT_EQ(prepared_on_server(conn), 0);
}
