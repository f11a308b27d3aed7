#include "concurrent_writers.hpp"

#include <exception>

#include <fmt/format.h>

namespace evstore::test {

std::vector<new_media> writer_media(const uuid& event, std::string_view folder, int thread,
                                    std::int64_t n, int count, timestamp start) {
  std::vector<new_media> media;
  for (int i = 0; i < count; ++i) {
    media.push_back({.event_id = event,
                     .kind = media_kind::image,
                     .uri = fmt::format("s3://{}/{}/{}/{}.jpg", folder, thread, n, i),
                     .captured_at = start + std::chrono::seconds(i)});
  }
  return media;
}

concurrent_writers::concurrent_writers(store& target, int threads) {
  for (int t = 0; t < threads; ++t) {
    threads_.emplace_back([this, &target, t] { write(target, t); });
  }
}

concurrent_writers::~concurrent_writers() {
  stop();
}

void concurrent_writers::write(store& target, int thread) {
  const auto start = timestamp(std::chrono::floor<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch()));
  for (std::int64_t n = 0; !stopping_.load(); ++n) {
    try {
      target.transaction([&](transaction& tx) {
        const auto e = tx.events().create(
            {.title = fmt::format("writer {} {}", thread, n), .start_time = start});
        (void)tx.media().add_many(writer_media(e.id, "writers", thread, n, 3, start));
      });
      ++committed_;
    } catch (const std::exception& e) {
      const std::lock_guard lock(error_mutex_);
      if (first_error_.empty()) {
        first_error_ = fmt::format("writer {}: {}", thread, e.what());
      }
      return;
    }
  }
}

bool concurrent_writers::wait_for(std::int64_t transactions,
                                  std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (committed_.load() < transactions) {
    if (std::chrono::steady_clock::now() >= until || !first_error().empty()) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void concurrent_writers::stop() {
  stopping_ = true;
  for (auto& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

std::string concurrent_writers::first_error() const {
  const std::lock_guard lock(error_mutex_);
  return first_error_;
}

}  // namespace evstore::test
