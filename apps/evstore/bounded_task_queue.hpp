#pragma once

// cpp-httplib's worker pool, with a bound on the connections waiting for a worker: its own
// ThreadPool (0.11.4) queues without limit. When the queue is full, enqueue() waits, so the
// accepting thread stops accepting and further clients wait in the kernel's listen backlog
// instead of in our memory.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace evstore::cli {

class bounded_task_queue final : public httplib::TaskQueue {
 public:
  /// Starts `threads` workers (at least 1); at most `max_queued` tasks wait for one.
  bounded_task_queue(std::size_t threads, std::size_t max_queued);
  bounded_task_queue(const bounded_task_queue&) = delete;
  bounded_task_queue& operator=(const bounded_task_queue&) = delete;
  ~bounded_task_queue() override;

  /// Queues `task`; waits while `max_queued` tasks are already waiting.
  void enqueue(std::function<void()> task) override;
  /// Lets the workers finish every queued task, then joins them. Idempotent.
  void shutdown() override;

 private:
  void work();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable task_ready_;
  std::condition_variable space_free_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace evstore::cli
