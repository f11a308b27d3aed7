// The watchdog behind call_timeout: a deadline fires when due and never after it is disarmed,
// and arming deadlines later than the one its thread sleeps for does not wake the thread (a
// context switch per repository call otherwise).

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "deadline.hpp"

namespace {

using namespace std::chrono_literals;
using evstore::detail::watchdog;

// Waits up to `limit` for `fired` to be set.
bool fires_within(const std::atomic<bool>& fired, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!fired && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  return fired;
}

TEST(watchdog, a_deadline_fires_when_due_and_reports_it) {
  watchdog dog;
  std::atomic<bool> fired = false;
  auto alarm = dog.arm(20ms, [&] { fired = true; });
  EXPECT_TRUE(fires_within(fired, 5s));
  EXPECT_TRUE(alarm.fired());
  EXPECT_TRUE(alarm.disarm());
}

TEST(watchdog, a_disarmed_deadline_never_fires) {
  watchdog dog;
  std::atomic<bool> fired = false;
  auto alarm = dog.arm(20ms, [&] { fired = true; });
  EXPECT_FALSE(alarm.disarm());
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(fired);
}

TEST(watchdog, arming_deadlines_later_than_the_one_it_sleeps_for_does_not_wake_it) {
  watchdog dog;
  // The thread sleeps until this deadline, even once it is disarmed.
  dog.arm(1h, [] {}).disarm();
  std::this_thread::sleep_for(50ms);
  const auto before = dog.wakeups();
  for (int call = 0; call < 1000; ++call) {
    auto alarm = dog.arm(2h, [] {});
    alarm.disarm();
  }
  EXPECT_EQ(dog.wakeups(), before);
}

TEST(watchdog, an_earlier_deadline_wakes_a_thread_sleeping_for_a_disarmed_later_one) {
  watchdog dog;
  auto later = dog.arm(1h, [] {});
  std::this_thread::sleep_for(50ms);
  later.disarm();
  std::atomic<bool> fired = false;
  auto sooner = dog.arm(20ms, [&] { fired = true; });
  EXPECT_TRUE(fires_within(fired, 5s));
}

}  // namespace
