#include "deadline.hpp"

#include <algorithm>
#include <utility>

namespace evstore::detail {

watchdog::alarm::alarm(alarm&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), id_(other.id_), fired_(other.fired_) {}

watchdog::alarm& watchdog::alarm::operator=(alarm&& other) noexcept {
  if (this != &other) {
    disarm();
    owner_ = std::exchange(other.owner_, nullptr);
    id_ = other.id_;
    fired_ = other.fired_;
  }
  return *this;
}

watchdog::alarm::~alarm() {
  disarm();
}

bool watchdog::alarm::disarm() noexcept {
  if (owner_ != nullptr) {
    fired_ = owner_->disarm(id_);
    owner_ = nullptr;
  }
  return fired_;
}

bool watchdog::alarm::fired() const noexcept {
  return owner_ != nullptr ? owner_->fired(id_) : fired_;
}

watchdog::watchdog() : thread_([this] { watch(); }) {}

watchdog::~watchdog() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

watchdog::alarm watchdog::arm(std::chrono::milliseconds timeout, std::function<void()> action) {
  if (timeout <= std::chrono::milliseconds::zero()) {
    return {};
  }
  const std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  const auto due = clock::now() + timeout;
  armed_.emplace(id, entry{due, std::move(action)});
  latest_due_ = std::max(latest_due_, due);
  // The thread sleeps until a deadline it knew of, possibly one disarmed since: waking it
  // for a later one would cost a context switch per call for nothing. It finds this one when
  // it wakes, and sleeps again until it is due.
  if (due < sleeping_until_) {
    wake_.notify_all();
  }
  return {this, id};
}

// An alarm that is no longer armed has fired: actions are removed as they run, under the
// same lock, so this also waits for one under way.
bool watchdog::disarm(std::uint64_t id) noexcept {
  const std::lock_guard lock(mutex_);
  return armed_.erase(id) == 0;
}

bool watchdog::fired(std::uint64_t id) noexcept {
  const std::lock_guard lock(mutex_);
  return !armed_.contains(id);
}

std::uint64_t watchdog::wakeups() noexcept {
  const std::lock_guard lock(mutex_);
  return wakeups_;
}

void watchdog::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto next =
        std::min_element(armed_.begin(), armed_.end(),
                         [](const auto& a, const auto& b) { return a.second.due < b.second.due; });
    if (next != armed_.end() && clock::now() >= next->second.due) {
      const auto action = std::move(next->second.action);
      armed_.erase(next);
      action();
      continue;
    }
    if (next != armed_.end()) {
      sleeping_until_ = next->second.due;
    } else if (latest_due_ > clock::now()) {
      sleeping_until_ = latest_due_;
    } else {
      sleeping_until_ = clock::time_point::max();
    }
    // A copy: wait_until reads its deadline again after waking (never a reference into
    // armed_, whose entries may be disarmed and freed while the lock is released).
    const auto until = sleeping_until_;
    if (until == clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, until);
    }
    ++wakeups_;
  }
}

}  // namespace evstore::detail
