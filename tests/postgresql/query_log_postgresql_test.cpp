// The PostgreSQL store's logs, with every statement and its values logged, never show the
// test server's (canary) password, raw or percent-encoded.

#include <gtest/gtest.h>

#include <evstore/redact.hpp>
#include <evstore/store.hpp>

#include "fresh_database.hpp"
#include "log_capture.hpp"
#include "process.hpp"

TEST(postgresql_query_log, logs_statements_and_values_but_never_the_password) {
  const evstore::test::fresh_postgresql_database database("query_log");
  const auto password = evstore::test::required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  const evstore::test::captured_log log;
  evstore::store_options options;
  options.query_log = {.enabled = true, .parameters = true};
  auto store = evstore::store::open(database.url(), options);
  (void)store->migrate();
  evstore::new_event e;
  e.title = "logged";
  e.start_time = evstore::timestamp(std::chrono::microseconds(1767225600000000));
  (void)store->events().create(e);
  auto bad = database.url();
  bad.password = "wrong";
  evstore::store_options no_retry;
  no_retry.connect_retry_budget = std::chrono::milliseconds(0);
  EXPECT_THROW((void)evstore::store::open(bad, no_retry)->events().count({}),
               evstore::connection_error);

  const auto text = log.text();
  EXPECT_NE(text.find("query on postgresql:"), std::string::npos) << text;
  EXPECT_NE(text.find("'logged'"), std::string::npos) << "values were asked for: " << text;
  EXPECT_EQ(evstore::redact(text, password), text) << "password leaked: " << text;
}
