// The connection pool, over real in-memory SQLite connections: bounded size, FIFO hand-off,
// the acquire deadline, validation, idle timeout, max lifetime, min_idle, leak warnings,
// close(), factory failures and metrics.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <mutex>
#include <optional>
#include <ostream>
#include <regex>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <tuple>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <evstore/config.hpp>
#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/pool.hpp>

#include "expect_error.hpp"
#include "log_capture.hpp"
#include "process.hpp"

using namespace std::chrono_literals;
using evstore::connection_pool;
using evstore::pool_settings;
using evstore::test::expect_exact_error;
using steady = std::chrono::steady_clock;

namespace {

evstore::connection open_memory() {
  return evstore::connection::open(evstore::test::default_plugins(),
                                   evstore::parse_database_url("sqlite::memory:"), {});
}

// Opens in-memory SQLite connections, counting them; can be told to fail or to be slow.
struct test_factory {
  std::atomic<int> opened{0};
  std::atomic<bool> fail{false};
  std::chrono::milliseconds delay{0};

  connection_pool::factory get() {
    return [this] {
      if (delay > 0ms) {
        std::this_thread::sleep_for(delay);
      }
      if (fail) {
        throw evstore::connection_error("the database is down", "SQLITE_CANTOPEN", "sqlite");
      }
      ++opened;
      return open_memory();
    };
  }
};

pool_settings settings_with(std::size_t max_size) {
  pool_settings settings;
  settings.max_size = max_size;
  settings.acquire_timeout = 5s;
  settings.housekeeping_interval = 10ms;
  return settings;
}

// Polls `condition` until it holds or `limit` passes; returns whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 3s) {
  const auto deadline = steady::now() + limit;
  while (!condition()) {
    if (steady::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::string this_thread_name() {
  std::ostringstream out;
  out << std::this_thread::get_id();
  return out.str();
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

// A connection of `pool` held by a thread of its own until release() or destruction: an
// exhausted pool for the test's thread, which holds none itself (else it gets pool_reentry).
class held_by_another_thread {
 public:
  explicit held_by_another_thread(connection_pool& pool)
      : holder_(std::async(std::launch::async, [this, &pool] {
          const auto lease = pool.acquire();
          holding_.count_down();
          release_.wait();
        })) {
    holding_.wait();
  }
  held_by_another_thread(const held_by_another_thread&) = delete;
  held_by_another_thread& operator=(const held_by_another_thread&) = delete;
  ~held_by_another_thread() { release(); }

  void release() {
    if (holder_.valid()) {
      release_.count_down();
      holder_.get();
    }
  }

 private:
  std::latch holding_{1};
  std::latch release_{1};
  std::future<void> holder_;  // last: its thread uses the latches
};

}  // namespace

TEST(pool, acquiring_and_returning_reuses_the_same_connection) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(2));
  {
    auto lease = pool.acquire();
    // Each in-memory SQLite connection is its own database: the table marks this one.
    lease->execute("CREATE TABLE marker (x INTEGER)");
  }
  {
    auto lease = pool.acquire();
    EXPECT_NO_THROW(lease->execute("INSERT INTO marker VALUES (1)"));
    EXPECT_EQ(lease->backend_name(), "sqlite");
  }
  const auto m = pool.metrics();
  EXPECT_EQ(m.size, 1U);
  EXPECT_EQ(m.idle, 1U);
  EXPECT_EQ(m.in_use, 0U);
  EXPECT_EQ(m.created, 1U);
  EXPECT_EQ(m.acquired, 2U);
  EXPECT_EQ(factory.opened, 1);
}

TEST(pool, never_more_than_max_size_connections_exist_under_contention) {
  constexpr std::size_t max_size = 4;
  constexpr int threads = 16;
  constexpr int iterations = 200;
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(max_size));
  std::atomic<int> in_use{0};
  std::atomic<int> most_in_use{0};
  std::atomic<std::size_t> largest_size{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < iterations; ++i) {
        try {
          auto lease = pool.acquire();
          const int now_in_use = ++in_use;
          int seen = most_in_use.load();
          while (now_in_use > seen && !most_in_use.compare_exchange_weak(seen, now_in_use)) {
          }
          const auto size = pool.metrics().size;
          std::size_t largest = largest_size.load();
          while (size > largest && !largest_size.compare_exchange_weak(largest, size)) {
          }
          (void)lease->ping();
          --in_use;
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  const auto m = pool.metrics();
  EXPECT_EQ(failures, 0);
  EXPECT_LE(most_in_use, static_cast<int>(max_size));
  EXPECT_LE(largest_size, max_size);
  EXPECT_LE(m.created, max_size);
  EXPECT_LE(m.size, max_size);
  EXPECT_EQ(m.in_use, 0U);
  EXPECT_EQ(m.waiting, 0U);
  EXPECT_EQ(m.timeouts, 0U);
  EXPECT_EQ(m.acquired, static_cast<std::uint64_t>(threads * iterations));
}

TEST(pool, a_waiter_gets_a_released_connection_promptly) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(1));
  auto held = pool.acquire();
  std::promise<steady::time_point> acquired_at;
  std::thread waiter([&] {
    auto lease = pool.acquire();
    acquired_at.set_value(steady::now());
  });
  ASSERT_TRUE(eventually([&] { return pool.metrics().waiting == 1; }));
  const auto released_at = steady::now();
  held = connection_pool::lease{};
  waiter.join();
  EXPECT_LT(acquired_at.get_future().get() - released_at, 100ms);
}

TEST(pool, waiters_are_served_in_arrival_order) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(1));
  auto held = pool.acquire();
  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      auto lease = pool.acquire();
      std::lock_guard lock(mutex);
      order.push_back(i);
    });
    // The next one starts only once this one is queued.
    ASSERT_TRUE(
        eventually([&] { return pool.metrics().waiting == static_cast<std::size_t>(i + 1); }));
  }
  held = connection_pool::lease{};
  for (auto& waiter : waiters) {
    waiter.join();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(pool.metrics().created, 1U);
}

TEST(pool, acquire_times_out_with_pool_timeout_naming_the_timeout_and_the_pool_figures) {
  test_factory factory;
  auto settings = settings_with(1);
  settings.acquire_timeout = 200ms;
  connection_pool pool(factory.get(), settings);
  const held_by_another_thread held(pool);
  const auto start = steady::now();
  try {
    (void)pool.acquire();
    ADD_FAILURE() << "acquire() returned although the only connection is held";
  } catch (const evstore::error& e) {
    const auto took = steady::now() - start;
    EXPECT_EQ(typeid(e), typeid(evstore::pool_timeout));
    EXPECT_EQ(e.category(), evstore::error_category::timeout);
    const std::string message = e.what();
    EXPECT_NE(message.find("within 200 ms"), std::string::npos) << message;
    EXPECT_NE(message.find("pool size 1 of at most 1"), std::string::npos) << message;
    EXPECT_NE(message.find("1 in use"), std::string::npos) << message;
    EXPECT_NE(message.find("1 waiting"), std::string::npos) << message;
    EXPECT_EQ(message.find("sqlite"), std::string::npos) << message;
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 600ms);
  }
  const auto m = pool.metrics();
  EXPECT_EQ(m.timeouts, 1U);
  EXPECT_EQ(m.waiting, 0U);
}

TEST(pool, acquire_within_an_exhausted_pool_gives_up_at_its_own_timeout_not_the_pools) {
  test_factory factory;
  auto settings = settings_with(1);  // acquire_timeout 5 s
  connection_pool pool(factory.get(), settings);
  held_by_another_thread held(pool);
  const auto start = steady::now();
  try {
    (void)pool.acquire_within(100ms);
    ADD_FAILURE() << "acquire_within() returned although the only connection is held";
  } catch (const evstore::error& e) {
    const auto took = steady::now() - start;
    EXPECT_EQ(typeid(e), typeid(evstore::pool_timeout));
    const std::string message = e.what();
    EXPECT_NE(message.find("within 100 ms"), std::string::npos) << message;
    EXPECT_GE(took, 100ms);
    EXPECT_LT(took, 500ms);
  }
  EXPECT_EQ(pool.metrics().timeouts, 1U);
  held.release();
  EXPECT_TRUE(static_cast<bool>(pool.acquire_within(100ms)));
}

TEST(pool, two_holders_each_wanting_a_second_connection_time_out_instead_of_deadlocking) {
  test_factory factory;
  auto settings = settings_with(2);
  settings.acquire_timeout = 300ms;
  connection_pool pool(factory.get(), settings);
  std::latch both_hold_one(2);
  std::latch both_tried(2);
  auto holder = [&] {
    auto first = pool.acquire();
    both_hold_one.arrive_and_wait();
    std::string outcome;
    try {
      auto second = pool.acquire();
      outcome = "got a second connection";
    } catch (const evstore::error& e) {
      outcome = typeid(e) == typeid(evstore::pool_timeout) ? "pool_timeout" : e.what();
    }
    // Keep the first until the other has tried too, or giving it back would serve the other.
    both_tried.arrive_and_wait();
    return outcome;
  };
  auto a = std::async(std::launch::async, holder);
  auto b = std::async(std::launch::async, holder);
  ASSERT_EQ(a.wait_for(5s), std::future_status::ready);
  ASSERT_EQ(b.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(a.get(), "pool_timeout");
  EXPECT_EQ(b.get(), "pool_timeout");
  EXPECT_EQ(pool.metrics().timeouts, 2U);
  EXPECT_EQ(pool.metrics().in_use, 0U);
}

namespace {

// This thread borrows all `max_size` connections of a pool whose acquire timeout is 10 s, then
// asks for one more with `ask`: it must get pool_reentry within 1 s, having queued nowhere and
// timed out nowhere; once it gives a connection back, the pool lends it again.
template <typename Ask>
void expect_pool_reentry_at_once(std::size_t max_size, Ask ask) {
  test_factory factory;
  auto settings = settings_with(max_size);
  settings.acquire_timeout = 10s;
  connection_pool pool(factory.get(), settings);
  std::vector<connection_pool::lease> held;
  for (std::size_t i = 0; i < max_size; ++i) {
    held.push_back(pool.acquire());
  }
  const auto start = steady::now();
  const auto message = expect_exact_error<evstore::pool_reentry>([&] { (void)ask(pool); },
                                                                 evstore::error_category::config);
  EXPECT_LT(steady::now() - start, 1s) << "waited for the timeout of 10 s";
  EXPECT_NE(
      message.find(fmt::format(
          "already holds every connection the pool may have ({0} of max_size {0})", max_size)),
      std::string::npos)
      << message;
  EXPECT_NE(message.find("tx.events()"), std::string::npos) << message;
  const auto after = pool.metrics();
  EXPECT_EQ(std::tuple(after.timeouts, after.waiting, after.in_use),
            std::tuple(std::uint64_t{0}, std::size_t{0}, max_size));

  held.pop_back();
  EXPECT_TRUE(static_cast<bool>(ask(pool)));
  EXPECT_EQ(pool.metrics().created, max_size);
}

}  // namespace

TEST(pool, a_thread_holding_the_only_connection_and_asking_again_gets_pool_reentry_at_once) {
  expect_pool_reentry_at_once(1, [](connection_pool& pool) { return pool.acquire(); });
}

TEST(pool, a_thread_holding_every_connection_gets_pool_reentry_from_acquire_within_too) {
  expect_pool_reentry_at_once(2, [](connection_pool& pool) { return pool.acquire_within(10s); });
}

TEST(pool, a_thread_holding_one_connection_waits_for_one_another_thread_gives_back) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(2));
  const auto mine = pool.acquire();
  held_by_another_thread other(pool);
  auto gives_back = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(200ms);
    other.release();
  });
  // Every connection is held, one of them by this thread: the other may still come back.
  const auto start = steady::now();
  EXPECT_TRUE(static_cast<bool>(pool.acquire()));
  EXPECT_GE(steady::now() - start, 100ms);
  gives_back.get();
  EXPECT_EQ(pool.metrics().timeouts, 0U);
}

TEST(pool, a_connection_marked_broken_is_closed_and_replaced) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(2));
  {
    auto lease = pool.acquire();
    lease.mark_broken();
  }
  auto m = pool.metrics();
  EXPECT_EQ(m.destroyed_broken, 1U);
  EXPECT_EQ(m.size, 0U);
  EXPECT_EQ(m.created, 1U);
  {
    auto lease = pool.acquire();
    EXPECT_NO_THROW((void)lease->ping());
  }
  m = pool.metrics();
  EXPECT_EQ(m.created, 2U);
  EXPECT_EQ(m.size, 1U);
  EXPECT_EQ(m.destroyed_broken, 1U);
}

TEST(pool, an_idle_connection_that_fails_its_ping_is_replaced) {
  test_factory factory;
  auto settings = settings_with(1);
  settings.validation_threshold = 0ms;
  connection_pool pool(factory.get(), settings);
  {
    auto lease = pool.acquire();
    // Closing the session underneath makes every later statement, the ping included, fail.
    lease->session().close();
    EXPECT_THROW((void)lease->ping(), evstore::error);
  }
  {
    auto lease = pool.acquire();
    EXPECT_NO_THROW((void)lease->ping());
  }
  const auto m = pool.metrics();
  EXPECT_EQ(m.destroyed_validation, 1U);
  EXPECT_EQ(m.created, 2U);
  EXPECT_EQ(m.size, 1U);
}

TEST(pool, a_failing_custom_validator_gets_the_caller_another_connection) {
  test_factory factory;
  std::atomic<int> calls{0};
  auto settings = settings_with(1);
  settings.validation_threshold = 0ms;
  settings.validate = [&](evstore::connection&) { return ++calls > 1; };
  connection_pool pool(factory.get(), settings);
  {
    auto lease = pool.acquire();
    EXPECT_NO_THROW((void)lease->ping());
  }
  const auto m = pool.metrics();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(m.destroyed_validation, 1U);
  EXPECT_EQ(m.created, 2U);
  EXPECT_EQ(m.acquired, 1U);
}

TEST(pool, a_connection_idle_less_than_the_validation_threshold_is_not_validated) {
  test_factory factory;
  std::atomic<int> calls{0};
  auto settings = settings_with(1);
  settings.validation_threshold = 5s;
  settings.validate = [&](evstore::connection&) {
    ++calls;
    return true;
  };
  connection_pool pool(factory.get(), settings);
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.acquire();
  }
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(pool.metrics().acquired, 3U);
}

TEST(pool, idle_connections_past_idle_timeout_are_closed_down_to_min_idle) {
  test_factory factory;
  auto settings = settings_with(4);
  settings.min_idle = 1;
  settings.idle_timeout = 50ms;
  connection_pool pool(factory.get(), settings);
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    auto c = pool.acquire();
  }
  ASSERT_TRUE(eventually([&] {
    const auto m = pool.metrics();
    return m.size == 1 && m.idle == 1;
  })) << "size "
      << pool.metrics().size;
  const auto m = pool.metrics();
  EXPECT_GE(m.created, 3U);
  EXPECT_EQ(m.destroyed_idle, m.created - 1);
  // The last one stays: min_idle.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(pool.metrics().idle, 1U);
}

TEST(pool, connections_past_max_lifetime_are_closed_when_returned_and_when_idle) {
  test_factory factory;
  auto settings = settings_with(2);
  settings.max_lifetime = 100ms;
  settings.idle_timeout = 0ms;
  connection_pool pool(factory.get(), settings);
  {
    auto lease = pool.acquire();
    std::this_thread::sleep_for(150ms);
  }
  auto m = pool.metrics();
  EXPECT_EQ(m.destroyed_lifetime, 1U);
  EXPECT_EQ(m.size, 0U);
  { auto lease = pool.acquire(); }
  EXPECT_EQ(pool.metrics().idle, 1U);
  ASSERT_TRUE(eventually([&] { return pool.metrics().destroyed_lifetime == 2; }));
  m = pool.metrics();
  EXPECT_EQ(m.size, 0U);
  EXPECT_EQ(m.created, 2U);
}

TEST(pool, min_idle_connections_are_opened_in_the_background_and_refilled) {
  test_factory factory;
  auto settings = settings_with(4);
  settings.min_idle = 2;
  connection_pool pool(factory.get(), settings);
  ASSERT_TRUE(eventually([&] { return pool.metrics().idle == 2; }));
  auto a = pool.acquire();
  auto b = pool.acquire();
  ASSERT_TRUE(eventually([&] {
    const auto m = pool.metrics();
    return m.idle == 2 && m.in_use == 2;
  }));
  EXPECT_EQ(pool.metrics().size, 4U);
  EXPECT_EQ(pool.metrics().created, 4U);
}

TEST(pool, min_idle_above_max_size_is_limited_to_max_size) {
  test_factory factory;
  auto settings = settings_with(3);
  settings.min_idle = 10;
  connection_pool pool(factory.get(), settings);
  EXPECT_EQ(pool.settings().min_idle, 3U);
  ASSERT_TRUE(eventually([&] { return pool.metrics().idle == 3; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(pool.metrics().size, 3U);
  EXPECT_EQ(pool.metrics().created, 3U);
}

TEST(pool, a_connection_held_past_the_leak_threshold_logs_one_warning_naming_the_borrow_site) {
  evstore::test::captured_log log;
  test_factory factory;
  auto settings = settings_with(1);
  settings.leak_threshold = 30ms;
  connection_pool pool(factory.get(), settings);
  const int line = __LINE__ + 1;
  auto held = pool.acquire();
  const std::string marker = "possible connection leak";
  ASSERT_TRUE(eventually([&] { return log.text().find(marker) != std::string::npos; }));
  // Several more housekeeping rounds: still one warning.
  std::this_thread::sleep_for(100ms);
  const std::string text = log.text();
  EXPECT_EQ(count_of(text, marker), 1U) << text;
  EXPECT_NE(text.find("[warning]"), std::string::npos) << text;
  EXPECT_NE(text.find("pool_test.cpp:" + std::to_string(line) + " "), std::string::npos) << text;
  EXPECT_NE(text.find("a_connection_held_past_the_leak_threshold"), std::string::npos) << text;
  EXPECT_NE(text.find("by thread " + this_thread_name() + " "), std::string::npos) << text;
  std::smatch age;
  ASSERT_TRUE(std::regex_search(text, age, std::regex("held for ([0-9]+) ms"))) << text;
  EXPECT_GE(std::stoi(age[1].str()), 30);
  EXPECT_EQ(text.find("sqlite:"), std::string::npos) << text;
  EXPECT_EQ(text.find(":memory:"), std::string::npos) << text;
}

TEST(pool, close_wakes_waiters_with_connection_error_and_later_acquire_throws) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(1));
  auto held = pool.acquire();
  auto waiter = std::async(std::launch::async, [&] {
    try {
      auto lease = pool.acquire();
      return std::string("acquired");
    } catch (const evstore::error& e) {
      EXPECT_EQ(typeid(e), typeid(evstore::connection_error));
      EXPECT_EQ(e.native_code(), "");
      EXPECT_EQ(e.backend(), "");
      return std::string(e.what());
    }
  });
  ASSERT_TRUE(eventually([&] { return pool.metrics().waiting == 1; }));
  pool.close();
  ASSERT_EQ(waiter.wait_for(1s), std::future_status::ready);
  EXPECT_EQ(waiter.get(), "the pool is closed");
  try {
    (void)pool.acquire();
    ADD_FAILURE() << "acquire() after close() returned";
  } catch (const evstore::error& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::connection_error));
    EXPECT_STREQ(e.what(), "the pool is closed");
  }
  // The lease still out is usable, and its connection is closed when it comes back.
  EXPECT_NO_THROW((void)held->ping());
  EXPECT_EQ(pool.metrics().size, 1U);
  held = connection_pool::lease{};
  const auto m = pool.metrics();
  EXPECT_EQ(m.size, 0U);
  EXPECT_EQ(m.destroyed_closed, 1U);
}

TEST(pool, close_closes_idle_connections_at_once) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(2));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
  }
  EXPECT_EQ(pool.metrics().idle, 2U);
  pool.close();
  const auto m = pool.metrics();
  EXPECT_EQ(m.size, 0U);
  EXPECT_EQ(m.destroyed_closed, 2U);
  pool.close();  // idempotent
}

TEST(pool, discard_idle_closes_the_idle_connections_and_leaves_those_in_use) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(3));
  auto held = pool.acquire();
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
  }
  EXPECT_EQ(pool.discard_idle(), 2U);
  auto m = pool.metrics();
  EXPECT_EQ(m.idle, 0U);
  EXPECT_EQ(m.in_use, 1U);
  EXPECT_EQ(m.size, 1U);
  EXPECT_EQ(m.destroyed_broken, 2U);
  EXPECT_NO_THROW((void)held->ping());
  auto fresh = pool.acquire();  // a new connection takes a discarded one's place
  EXPECT_EQ(pool.metrics().created, 4U);
  EXPECT_EQ(pool.discard_idle(), 0U);
}

TEST(pool, a_lease_outliving_its_pool_stays_usable_and_closes_its_connection) {
  test_factory factory;
  std::optional<connection_pool> pool;
  pool.emplace(factory.get(), settings_with(1));
  auto lease = pool->acquire();
  pool.reset();
  EXPECT_NO_THROW((void)lease->ping());
  lease = connection_pool::lease{};
  EXPECT_FALSE(lease);
}

TEST(pool, a_moved_lease_returns_its_connection_once) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(2));
  auto first = pool.acquire();
  auto moved = std::move(first);
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): a moved-from lease is empty
  EXPECT_TRUE(moved);
  EXPECT_EQ(pool.metrics().in_use, 1U);
  auto second = pool.acquire();
  moved = std::move(second);  // gives back the first connection
  EXPECT_EQ(pool.metrics().in_use, 1U);
  EXPECT_EQ(pool.metrics().idle, 1U);
  moved = connection_pool::lease{};
  EXPECT_EQ(pool.metrics().in_use, 0U);
  EXPECT_EQ(pool.metrics().idle, 2U);
}

TEST(pool, exceptions_thrown_while_holding_a_lease_give_the_connection_back) {
  constexpr int iterations = 10000;
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(3));
  int caught = 0;
  for (int i = 0; i < iterations; ++i) {
    try {
      auto lease = pool.acquire();
      throw std::runtime_error("failure while holding a connection");
    } catch (const std::runtime_error&) {
      ++caught;
    }
  }
  const auto m = pool.metrics();
  EXPECT_EQ(caught, iterations);
  EXPECT_EQ(m.in_use, 0U);
  EXPECT_LE(m.size, 3U);
  EXPECT_EQ(m.acquired, static_cast<std::uint64_t>(iterations));
}

TEST(pool, a_failing_factory_propagates_its_error_to_the_caller_and_frees_the_slot) {
  test_factory factory;
  factory.fail = true;
  connection_pool pool(factory.get(), settings_with(2));
  try {
    (void)pool.acquire();
    ADD_FAILURE() << "acquire() returned although the factory fails";
  } catch (const evstore::error& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::connection_error));
    EXPECT_STREQ(e.what(), "the database is down");
    EXPECT_EQ(e.native_code(), "SQLITE_CANTOPEN");
  }
  auto m = pool.metrics();
  EXPECT_EQ(m.size, 0U);
  EXPECT_EQ(m.opening, 0U);
  EXPECT_EQ(m.waiting, 0U);

  // More callers than slots: each hears of the failure, none is left to time out.
  std::vector<std::future<std::string>> callers;
  for (int i = 0; i < 3; ++i) {
    callers.push_back(std::async(std::launch::async, [&] {
      try {
        auto lease = pool.acquire();
        return std::string("acquired");
      } catch (const evstore::error& e) {
        return std::string(e.what());
      }
    }));
  }
  for (auto& caller : callers) {
    ASSERT_EQ(caller.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(caller.get(), "the database is down");
  }
  EXPECT_EQ(pool.metrics().size, 0U);

  factory.fail = false;
  auto a = pool.acquire();
  auto b = pool.acquire();
  EXPECT_NO_THROW((void)a->ping());
  EXPECT_NO_THROW((void)b->ping());
  m = pool.metrics();
  EXPECT_EQ(m.size, 2U);
  EXPECT_EQ(m.created, 2U);
  EXPECT_EQ(m.timeouts, 0U);
}

TEST(pool, a_slow_factory_does_not_hold_a_caller_past_its_acquire_timeout) {
  test_factory factory;
  factory.delay = 400ms;
  auto settings = settings_with(1);
  settings.acquire_timeout = 100ms;
  connection_pool pool(factory.get(), settings);
  const auto start = steady::now();
  EXPECT_THROW((void)pool.acquire(), evstore::pool_timeout);
  EXPECT_LT(steady::now() - start, 350ms);
  EXPECT_EQ(pool.metrics().opening, 1U);
  // The connection opened for nobody in particular is kept for the next caller.
  ASSERT_TRUE(eventually([&] { return pool.metrics().idle == 1; }));
  auto lease = pool.acquire();
  EXPECT_EQ(pool.metrics().created, 1U);
}

TEST(pool, the_acquire_histogram_adds_up_to_the_acquire_count) {
  test_factory factory;
  connection_pool pool(factory.get(), settings_with(1));
  for (int i = 0; i < 20; ++i) {
    auto lease = pool.acquire();
  }
  // One slow acquisition: it waits about 150 ms for the held connection.
  auto held = pool.acquire();
  std::thread slow([&] { auto lease = pool.acquire(); });
  ASSERT_TRUE(eventually([&] { return pool.metrics().waiting == 1; }));
  std::this_thread::sleep_for(150ms);
  held = connection_pool::lease{};
  slow.join();

  const auto m = pool.metrics();
  EXPECT_EQ(m.acquire_count, 22U);
  EXPECT_EQ(m.acquire_count, m.acquired);
  EXPECT_TRUE(std::is_sorted(m.acquire_histogram.begin(), m.acquire_histogram.end()));
  EXPECT_EQ(m.acquire_histogram.back(), m.acquire_count);
  // Buckets: ..., 50 ms, 100 ms, 500 ms, 1 s. The waiter took over 100 ms; the first
  // acquisition, which opened the connection, may have too (slow under sanitizers).
  EXPECT_LE(m.acquire_histogram[5], m.acquire_count - 1);
  EXPECT_GE(m.acquire_histogram[5], m.acquire_count - 2);
  EXPECT_EQ(m.acquire_histogram[6], m.acquire_count);
  EXPECT_GE(m.acquire_time_total, 150ms);
}

TEST(pool, an_empty_factory_or_a_zero_max_size_is_refused_with_config_error) {
  test_factory factory;
  EXPECT_THROW(connection_pool(nullptr, settings_with(1)), evstore::config_error);
  EXPECT_THROW(connection_pool(factory.get(), settings_with(0)), evstore::config_error);
  auto negative = settings_with(1);
  negative.acquire_timeout = -1ms;
  EXPECT_THROW(connection_pool(factory.get(), negative), evstore::config_error);
  EXPECT_EQ(factory.opened, 0);
}

TEST(pool, durations_of_milliseconds_max_mean_practically_never_without_overflow) {
  test_factory factory;
  auto settings = settings_with(1);
  settings.acquire_timeout = std::chrono::milliseconds::max();
  settings.idle_timeout = std::chrono::milliseconds::max();
  settings.max_lifetime = std::chrono::milliseconds::max();
  settings.validation_threshold = std::chrono::milliseconds::max();
  settings.leak_threshold = std::chrono::milliseconds::max();
  connection_pool pool(factory.get(), settings);
  EXPECT_EQ(pool.settings().acquire_timeout, std::chrono::hours{24 * 365 * 100});
  { auto lease = pool.acquire(); }
  auto lease = pool.acquire();
  std::this_thread::sleep_for(30ms);  // a few housekeeping rounds
  const auto m = pool.metrics();
  EXPECT_EQ(m.created, 1U);
  EXPECT_EQ(m.size, 1U);
  EXPECT_EQ(m.destroyed_lifetime + m.destroyed_idle + m.destroyed_validation, 0U);
}

TEST(pool, the_default_max_size_is_twice_the_hardware_threads_and_at_least_four) {
  const std::size_t expected =
      std::max<std::size_t>(4, 2 * std::size_t{std::thread::hardware_concurrency()});
  EXPECT_EQ(pool_settings{}.max_size, expected);
  EXPECT_EQ(evstore::default_pool_max_size(), expected);
}
