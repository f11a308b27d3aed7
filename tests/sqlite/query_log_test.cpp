// What the query log writes: every statement with duration and rows when enabled, bound values
// only when asked, slow statements always.

#include <gtest/gtest.h>

#include <evstore/connection.hpp>
#include <evstore/store.hpp>

#include "log_capture.hpp"
#include "process.hpp"

using namespace std::chrono_literals;

namespace {

std::unique_ptr<evstore::store> memory_store(evstore::query_log_options log) {
  evstore::store_options options;
  options.query_log = log;
  auto store = evstore::store::open(evstore::parse_database_url("sqlite::memory:"), options);
  (void)store->migrate();
  return store;
}

evstore::new_event secret_event() {
  evstore::new_event e;
  e.title = "personal-data-4711";
  e.start_time = evstore::timestamp(1767225600000000us);
  return e;
}

}  // namespace

TEST(query_log, logs_each_statement_with_duration_and_rows_but_not_its_values) {
  auto store = memory_store({.enabled = true});
  const evstore::test::captured_log log;
  (void)store->events().create(secret_event());
  const auto text = log.text();
  EXPECT_NE(text.find("query on sqlite:"), std::string::npos) << text;
  EXPECT_NE(text.find("INSERT INTO events"), std::string::npos) << text;
  EXPECT_NE(text.find("1 row(s)"), std::string::npos) << text;
  EXPECT_NE(text.find("parameter(s), values not logged"), std::string::npos) << text;
  EXPECT_EQ(text.find("personal-data-4711"), std::string::npos) << "values are redacted";
}

TEST(query_log, logs_bound_values_only_when_asked) {
  auto store = memory_store({.enabled = true, .parameters = true});
  const evstore::test::captured_log log;
  (void)store->events().create(secret_event());
  EXPECT_NE(log.text().find("'personal-data-4711'"), std::string::npos) << log.text();
}

TEST(query_log, logs_nothing_but_slow_statements_when_disabled) {
  auto store = memory_store({.enabled = false, .slow_threshold = 1ms});
  const evstore::test::captured_log log;
  (void)store->events().count({});
  store->transaction([](evstore::transaction& tx) {
    // A statement that takes well over a millisecond.
    evstore::event_filter filter;
    filter.title_contains = "x";
    for (int i = 0; i < 3; ++i) {
      (void)tx.events().create(secret_event());
    }
    (void)tx.events().count(filter);
  });
  const auto text = log.text();
  EXPECT_EQ(text.find("query on sqlite:"), std::string::npos) << text;
  EXPECT_EQ(text.find("personal-data-4711"), std::string::npos) << text;
}

TEST(query_log, warns_of_a_slow_statement_even_when_disabled) {
  auto conn = evstore::connection::open(evstore::test::default_plugins(),
                                        evstore::parse_database_url("sqlite::memory:"), {});
  conn.set_query_log({.enabled = false, .slow_threshold = 50ms});
  const evstore::test::captured_log log;
  conn.execute("SELECT 1");
  // Counting to two million in a recursive CTE takes about 300 ms; SELECT 1 takes far less
  // than 50 ms, even on a loaded machine.
  conn.execute(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000) "
      "SELECT COUNT(*) FROM n");
  const auto text = log.text();
  EXPECT_NE(text.find("slow query (50 ms or more) on sqlite"), std::string::npos) << text;
  EXPECT_NE(text.find("WITH RECURSIVE n(x)"), std::string::npos) << text;
  EXPECT_EQ(text.find("SELECT 1\n"), std::string::npos) << "a fast statement is not logged";
}
