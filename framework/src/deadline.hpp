#pragma once

// Private to libevstore: the client-side deadline of a call. SOCI runs statements
// synchronously, and a hung server (a stopped process) is invisible to TCP keepalives and
// tcp_user_timeout on loopback, where the kernel still acknowledges; so a watchdog thread
// interrupts, through the backend, a call that outlives its deadline.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace evstore::detail {

/// One thread that runs an action when a deadline passes, unless the deadline was disarmed
/// first. Actions run on the watchdog's thread under its lock, so they must be short and must
/// not block (backend::interrupt's contract); in exchange, once disarm() has returned, the
/// action is neither running nor will it ever run: what it refers to may go.
class watchdog {
 public:
  using clock = std::chrono::steady_clock;

  /// An armed deadline; disarmed when destroyed. Move-only; used by one thread.
  class alarm {
   public:
    alarm() noexcept = default;
    alarm(alarm&& other) noexcept;
    /// Disarms this alarm, then takes over `other`'s.
    alarm& operator=(alarm&& other) noexcept;
    alarm(const alarm&) = delete;
    alarm& operator=(const alarm&) = delete;
    ~alarm();

    /// Cancels the deadline if it has not passed yet, waiting for an action under way.
    /// @returns whether the action ran. Idempotent.
    bool disarm() noexcept;

    /// Whether the action has run (or is running), leaving the alarm armed otherwise.
    [[nodiscard]] bool fired() const noexcept;

   private:
    friend class watchdog;
    alarm(watchdog* owner, std::uint64_t id) noexcept : owner_(owner), id_(id) {}

    watchdog* owner_ = nullptr;
    std::uint64_t id_ = 0;
    bool fired_ = false;
  };

  /// Starts the watchdog's thread.
  /// @throws std::system_error when it cannot be started.
  watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  /// Stops the thread. Every alarm must have been disarmed or destroyed.
  ~watchdog();

  /// Runs `action` (which must not throw) `timeout` from now unless the returned alarm is
  /// disarmed first. A timeout of zero or less arms nothing: the alarm never fires.
  [[nodiscard]] alarm arm(std::chrono::milliseconds timeout, std::function<void()> action);

  /// How many times the thread has woken up, for whatever reason (tests: arming a deadline
  /// later than the one it sleeps for must not wake it).
  [[nodiscard]] std::uint64_t wakeups() noexcept;

 private:
  struct entry {
    clock::time_point due;
    std::function<void()> action;
  };

  bool disarm(std::uint64_t id) noexcept;
  bool fired(std::uint64_t id) noexcept;
  void watch();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, entry> armed_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;             // guarded by mutex_
  // When the thread, blocked waiting, wakes up by itself; max() while it waits for a first
  // alarm. Meaningful only while it waits: otherwise it holds mutex_ and sees every alarm.
  clock::time_point sleeping_until_ = clock::time_point::max();  // guarded by mutex_
  // The latest deadline ever armed: with none armed, the thread sleeps until then, so that
  // the next call (armed with a later deadline) need not wake it.
  clock::time_point latest_due_ = clock::time_point::min();  // guarded by mutex_
  std::uint64_t wakeups_ = 0;                                // guarded by mutex_
  bool stopping_ = false;                                    // guarded by mutex_
  std::thread thread_;
};

}  // namespace evstore::detail
