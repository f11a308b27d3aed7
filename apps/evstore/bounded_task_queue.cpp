#include "bounded_task_queue.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

namespace evstore::cli {

bounded_task_queue::bounded_task_queue(std::size_t threads, std::size_t max_queued)
    : max_queued_(std::max<std::size_t>(max_queued, 1)) {
  threads = std::max<std::size_t>(threads, 1);
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] { work(); });
  }
}

bounded_task_queue::~bounded_task_queue() {
  shutdown();
}

void bounded_task_queue::enqueue(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  space_free_.wait(lock, [this] { return tasks_.size() < max_queued_ || stopping_; });
  tasks_.push_back(std::move(task));
  task_ready_.notify_one();
}

void bounded_task_queue::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  task_ready_.notify_all();
  space_free_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) {
      worker.join();
    }
  }
}

void bounded_task_queue::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      task_ready_.wait(lock, [this] { return !tasks_.empty() || stopping_; });
      if (tasks_.empty()) {
        return;  // stopping, and nothing left to do
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    space_free_.notify_one();
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("http: a connection's handling failed: {}", e.what());
    } catch (...) {
      spdlog::error("http: a connection's handling failed");
    }
  }
}

}  // namespace evstore::cli
