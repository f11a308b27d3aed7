// evstore::testing as an application uses it (the example of docs/testing.md).

#include <gtest/gtest.h>

#include <evstore/testing.hpp>

namespace {

using namespace std::chrono_literals;

evstore::new_event concert() {
  evstore::new_event e;
  e.title = "Open-air concert";
  e.start_time =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  return e;
}

}  // namespace

TEST(testing_library, a_memory_store_is_migrated_and_ready) {
  auto store = evstore::testing::memory_store();
  const auto e = store->events().create(concert());
  evstore::new_media photo;
  photo.event_id = e.id;
  photo.uri = "s3://photos/1.jpg";
  photo.captured_at = e.start_time + 5min;
  (void)store->media().add(photo);
  EXPECT_EQ(store->media().count_by_event(e.id), 1);
}

TEST(testing_library, every_memory_store_is_isolated) {
  auto first = evstore::testing::memory_store();
  auto second = evstore::testing::memory_store();
  (void)first->events().create(concert());
  EXPECT_EQ(first->events().count({}), 1);
  EXPECT_EQ(second->events().count({}), 0);
}

TEST(testing_library, a_memory_store_keeps_its_data_across_calls_and_threads) {
  auto store = evstore::testing::memory_store();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { (void)store->events().create(concert()); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(store->events().count({}), 4) << "one database for the whole store";
}

TEST(testing_library, applies_the_applications_own_migrations_after_evstores) {
  evstore::migration tags;
  tags.version = 1;
  tags.name = "event_tags";
  tags.up = "CREATE TABLE event_tags (event_id TEXT NOT NULL REFERENCES events (id), tag TEXT)";
  tags.checksum = evstore::sha256_hex(tags.up);
  tags.origin = "test";
  auto store = evstore::testing::memory_store({tags});
  const auto e = store->events().create(concert());
  EXPECT_NO_THROW(store->transaction([&](evstore::transaction&) {}));
  EXPECT_TRUE(store->events().get(e.id));
}

TEST(store_transaction, rethrows_the_applications_own_exception_unchanged_after_rolling_back) {
  auto store = evstore::testing::memory_store();
  const evstore::new_event launch{.title = "launch", .start_time = evstore::timestamp{}};
  // After a statement, and before any: the work's own exception, not an evstore::error.
  for (const bool after_a_statement : {true, false}) {
    try {
      store->transaction([&](evstore::transaction& tx) {
        if (after_a_statement) {
          (void)tx.events().create(launch);
        }
        throw std::runtime_error("simulated crash");
      });
      FAIL() << "the work threw";
    } catch (const evstore::error& e) {
      FAIL() << "wrapped as an evstore::error: " << e.what();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "simulated crash");
    }
  }
  EXPECT_EQ(store->events().count({}), 0) << "rolled back";
  EXPECT_EQ(store->statistics().transactions_failed, 2U);
  EXPECT_EQ(store->events().create(launch).title, "launch") << "the connection is still usable";
}
