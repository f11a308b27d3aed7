#pragma once

// The pool the raw contenders share their connections through in W5: a mutex, a condition
// variable and a stack of free connections, about the least a hand-written pool does.

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace evstore::bench {

template <typename Connection>
class simple_pool {
 public:
  /// Returns its connection to the pool when it goes out of scope.
  class lease {
   public:
    lease(simple_pool& pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { pool_.give_back(std::move(connection_)); }
    Connection& operator*() const noexcept { return *connection_; }
    Connection* operator->() const noexcept { return connection_.get(); }

   private:
    simple_pool& pool_;
    std::unique_ptr<Connection> connection_;
  };

  /// Opens `count` connections, each made as Connection(arguments...).
  template <typename... Arguments>
  explicit simple_pool(std::size_t count, const Arguments&... arguments) {
    for (std::size_t i = 0; i < count; ++i) {
      free_.push_back(std::make_unique<Connection>(arguments...));
    }
  }

  /// Waits for a free connection.
  lease acquire() {
    std::unique_lock lock(mutex_);
    returned_.wait(lock, [&] { return !free_.empty(); });
    auto connection = std::move(free_.back());
    free_.pop_back();
    return lease(*this, std::move(connection));
  }

 private:
  void give_back(std::unique_ptr<Connection> connection) {
    {
      const std::lock_guard lock(mutex_);
      free_.push_back(std::move(connection));
    }
    returned_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> free_;
};

}  // namespace evstore::bench
