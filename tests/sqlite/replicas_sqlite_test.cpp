// Read replicas on a backend that has none: SQLite refuses read URLs, and causal scopes still
// work, every read going to the one database.

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/store.hpp>
#include <evstore/testing.hpp>

using namespace std::chrono_literals;

TEST(replicas_on_sqlite, a_read_url_is_refused_with_what_to_do) {
  evstore::store_options options;
  options.read_urls.push_back(evstore::parse_database_url("sqlite:///tmp/replica.db"));
  try {
    (void)evstore::store::open(evstore::parse_database_url("sqlite::memory:"), options);
    FAIL() << "SQLite has no read replicas";
  } catch (const evstore::config_error& e) {
    EXPECT_STREQ(e.what(),
                 "the sqlite backend has no read replicas: leave EVSTORE_READ_URLS "
                 "(store_options::read_urls) empty");
  }
}

TEST(replicas_on_sqlite, scopes_read_their_writes_from_the_only_database) {
  auto store = evstore::testing::memory_store();
  auto scope = store->scope();
  evstore::new_event e;
  e.title = "in a scope";
  e.start_time = evstore::timestamp(1767225600000000us);
  const auto created = scope.events().create(e);
  EXPECT_TRUE(scope.events().get(created.id).has_value());
  EXPECT_TRUE(store->on_primary().events().get(created.id).has_value());
  EXPECT_EQ(scope.token(), "rw1-0000000000000000") << "no replicas: no position to carry";
  EXPECT_TRUE(store->replicas(100ms).empty());
  const auto stats = store->statistics();
  EXPECT_EQ(stats.primary_reads, 2U);
  EXPECT_EQ(stats.replica_fallbacks, 0U);
  EXPECT_TRUE(stats.replicas.empty());
}

TEST(replicas_on_sqlite, a_token_round_trips_and_a_malformed_one_is_a_validation_error) {
  auto store = evstore::testing::memory_store();
  auto scope = store->scope("rw1-00000000deadbeef");
  EXPECT_EQ(scope.token(), "rw1-00000000deadbeef");
  scope.observe("rw1-0000000000000001");
  EXPECT_EQ(scope.token(), "rw1-00000000deadbeef") << "a position only grows";
  for (const std::string bad :
       {"", "rw1-", "rw1-00000000deadbee", "rw1-00000000deadbeefa", "rw2-00000000deadbeef",
        "rw1-00000000deadbeeg", "rw1-+0000000deadbeef"}) {
    try {
      (void)store->scope(bad);
      ADD_FAILURE() << "accepted the token \"" << bad << "\"";
    } catch (const evstore::validation_error& e) {
      EXPECT_EQ(e.field(), "token");
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad.size()) + " characters"),
                std::string::npos)
          << e.what();
    }
  }
}
