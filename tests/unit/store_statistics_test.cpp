// The store's operation counters: how a repository function is named, how calls are counted,
// and how they are rendered for Prometheus.

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <evstore/detail/statistics_recorder.hpp>
#include <evstore/prometheus.hpp>

using namespace std::chrono_literals;
using evstore::detail::operation_name;

TEST(operation_name, names_repository_functions_as_the_store_names_their_repositories) {
  EXPECT_EQ(operation_name("evstore::event evstore::event_repository::create(const "
                           "evstore::new_event&)"),
            "events.create");
  EXPECT_EQ(operation_name("evstore::page<evstore::media> evstore::media_repository::timeline("
                           "const evstore::uuid&, const evstore::timeline_range&, const "
                           "evstore::page_request&, evstore::sort_direction)"),
            "media.timeline");
  EXPECT_EQ(operation_name("std::vector<evstore::event> evstore::event_repository::create_many("
                           "const std::vector<evstore::new_event>&)"),
            "events.create_many");
  EXPECT_EQ(operation_name("void evstore::transaction::savepoint(const "
                           "std::function<void(evstore::transaction&)>&)"),
            "transaction.savepoint");
  EXPECT_EQ(operation_name("int evstore::{anonymous}::helper(int)"), "helper");
  EXPECT_EQ(operation_name("int main()"), "main");
}

TEST(statistics_recorder, counts_calls_errors_and_durations_by_operation) {
  evstore::detail::statistics_recorder recorder;
  const char* create = "evstore::event evstore::event_repository::create(const new_event&)";
  recorder.record(create, 300us, false);
  recorder.record(create, 2ms, true);
  recorder.record("bool evstore::media_repository::remove(const evstore::uuid&)", 7s, false);
  recorder.transaction_committed();
  recorder.transaction_retried();
  recorder.commit_outcome_unknown();

  const auto stats = recorder.snapshot();
  ASSERT_EQ(stats.operations.size(), 2U);
  const auto& events = stats.operations[0];
  EXPECT_EQ(events.operation, "events.create");
  EXPECT_EQ(events.calls, 2U);
  EXPECT_EQ(events.errors, 1U);
  EXPECT_EQ(events.duration_total, 2300us);
  EXPECT_EQ(events.duration_histogram[0], 1U);  // <= 0.5 ms
  EXPECT_EQ(events.duration_histogram[1], 1U);  // <= 1 ms
  EXPECT_EQ(events.duration_histogram[2], 2U);  // <= 5 ms
  const auto& media = stats.operations[1];
  EXPECT_EQ(media.operation, "media.remove");
  EXPECT_EQ(media.duration_histogram.back(), 0U) << "7 s is only in +Inf";
  EXPECT_EQ(stats.transactions_committed, 1U);
  EXPECT_EQ(stats.transactions_failed, 0U);
  EXPECT_EQ(stats.transaction_retries, 1U);
  EXPECT_EQ(stats.commit_unknown, 1U);
}

TEST(prometheus_text, renders_operations_as_labelled_counters_and_histograms) {
  evstore::detail::statistics_recorder recorder;
  recorder.record("evstore::event evstore::event_repository::create(const new_event&)", 2ms, false);
  recorder.transaction_retried();
  const auto text = evstore::prometheus_text({}, recorder.snapshot(), {}, {});
  for (const char* line :
       {"# TYPE evstore_operations_total counter\n"
        "evstore_operations_total{operation=\"events.create\"} 1\n",
        "evstore_operation_errors_total{operation=\"events.create\"} 0\n",
        "# TYPE evstore_operation_duration_seconds histogram\n"
        "evstore_operation_duration_seconds_bucket{operation=\"events.create\",le=\"0.0005\"} 0\n",
        "evstore_operation_duration_seconds_bucket{operation=\"events.create\",le=\"0.005\"} 1\n",
        "evstore_operation_duration_seconds_bucket{operation=\"events.create\",le=\"+Inf\"} 1\n",
        "evstore_operation_duration_seconds_sum{operation=\"events.create\"} 0.002\n",
        "evstore_operation_duration_seconds_count{operation=\"events.create\"} 1\n",
        "evstore_transactions_total{outcome=\"commit_unknown\"} 0\n",
        "evstore_transaction_retries_total 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nnot in\n" << text;
  }
}
