// What a store counts as its repositories are used: operations by name, transactions by
// outcome, and retries, as store::statistics() and /metrics show them.

#include <algorithm>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/prometheus.hpp>
#include <evstore/store.hpp>

using namespace std::chrono_literals;

namespace {

std::unique_ptr<evstore::store> memory_store() {
  evstore::store_options options;
  options.retry.base_delay = 1ms;
  auto store = evstore::store::open(evstore::parse_database_url("sqlite::memory:"), options);
  (void)store->migrate();
  return store;
}

evstore::new_event an_event(const std::string& title) {
  evstore::new_event e;
  e.title = title;
  e.start_time = evstore::timestamp(1767225600000000us);
  return e;
}

const evstore::operation_statistics* find(const evstore::store_statistics& stats,
                                          const std::string& operation) {
  const auto at = std::find_if(stats.operations.begin(), stats.operations.end(),
                               [&](const auto& op) { return op.operation == operation; });
  return at == stats.operations.end() ? nullptr : &*at;
}

}  // namespace

TEST(store_statistics, counts_each_repository_operation_under_its_name) {
  auto store = memory_store();
  const auto created = store->events().create(an_event("one"));
  (void)store->events().create(an_event("two"));
  (void)store->events().get(created.id);
  (void)store->media().timeline(created.id, {}, {});
  EXPECT_THROW((void)store->events().create(an_event("")), evstore::validation_error);

  const auto stats = store->statistics();
  const auto* create = find(stats, "events.create");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->calls, 2U) << "a call refused before reaching the database is not counted";
  EXPECT_EQ(create->errors, 0U);
  EXPECT_GT(create->duration_total.count(), 0);
  ASSERT_NE(find(stats, "events.get"), nullptr);
  EXPECT_EQ(find(stats, "events.get")->calls, 1U);
  ASSERT_NE(find(stats, "media.timeline"), nullptr);
  EXPECT_EQ(find(stats, "media.timeline")->calls, 1U);
  EXPECT_TRUE(
      std::is_sorted(stats.operations.begin(), stats.operations.end(),
                     [](const auto& a, const auto& b) { return a.operation < b.operation; }));
}

TEST(store_statistics, counts_a_failed_operation_as_an_error) {
  auto store = memory_store();
  auto orphan = evstore::new_media{};
  orphan.event_id = evstore::uuid::v7();
  orphan.kind = evstore::media_kind::image;
  orphan.uri = "s3://bucket/a.jpg";
  orphan.captured_at = evstore::timestamp(1767225600000000us);
  EXPECT_THROW((void)store->media().add(orphan), evstore::constraint_violation);
  const auto stats = store->statistics();
  const auto* add = find(stats, "media.add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->calls, 1U);
  EXPECT_EQ(add->errors, 1U);
}

TEST(store_statistics, counts_transactions_by_outcome_and_their_retries) {
  auto store = memory_store();
  int attempts = 0;
  store->transaction([&](evstore::transaction& tx) {
    if (++attempts == 1) {
      throw evstore::transient_error("database is locked (simulated)", "5", "sqlite");
    }
    (void)tx.events().create(an_event("in a transaction"));
  });
  EXPECT_THROW(store->transaction([](evstore::transaction&) { throw std::runtime_error("no"); }),
               std::runtime_error);

  const auto stats = store->statistics();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(stats.transactions_committed, 1U);
  EXPECT_EQ(stats.transactions_failed, 1U);
  EXPECT_EQ(stats.transaction_retries, 1U);
  EXPECT_EQ(stats.commit_unknown, 0U);
  ASSERT_NE(find(stats, "events.create"), nullptr) << "counted inside a transaction too";

  const auto text = evstore::prometheus_text(store->metrics(), stats, {}, {});
  EXPECT_NE(text.find("evstore_operations_total{operation=\"events.create\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("evstore_transactions_total{outcome=\"committed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("evstore_transaction_retries_total 1\n"), std::string::npos);
}
