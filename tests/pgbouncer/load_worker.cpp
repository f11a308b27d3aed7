// One process of the mixed load that pgbouncer_test runs through a transaction-mode pooler:
// threads that each commit an event with 20 media (COPY) in a transaction, then read it back
// in every way the repositories read, update it, list events and claim pending media, over and
// over for a given time. Any error ends the process with exit code 1 and the error on stderr;
// success prints "committed N" (the transactions committed) on stdout.
//
//   pgbouncer_load_worker WORKER THREADS SECONDS   (DATABASE_URL and EVSTORE_* configure it)

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <evstore/settings.hpp>
#include <evstore/store.hpp>

#include "concurrent_writers.hpp"

namespace {

constexpr int media_per_event = 20;  // past the bulk threshold: add_many goes through COPY

// One round of the mixed work; throws what the store throws, or std::runtime_error when a
// read does not give back what was written.
void one_round(evstore::store& store, int worker, int thread, std::int64_t n,
               evstore::timestamp start) {
  const auto created = store.transaction([&](evstore::transaction& tx) {
    auto e = tx.events().create(
        {.title = fmt::format("load {} {} {}", worker, thread, n), .start_time = start});
    (void)tx.media().add_many(evstore::test::writer_media(e.id, fmt::format("load{}", worker),
                                                          thread, n, media_per_event, start));
    return e;
  });
  const auto read = store.events().get(created.id);
  const auto timeline = store.media().timeline(created.id, {}, {.limit = 50});
  if (!read || *read != created || timeline.items.size() != media_per_event ||
      store.media().count_by_event(created.id) != media_per_event) {
    throw std::runtime_error(fmt::format("event {} did not read back as written", n));
  }
  if (!store.events().update(created.id, created.version, {.description = "updated"})) {
    throw std::runtime_error(fmt::format("event {} could not be updated", n));
  }
  (void)store.events().list({}, {.limit = 10});
  (void)store.media().claim_pending(5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: pgbouncer_load_worker WORKER THREADS SECONDS\n";
    return 2;
  }
  // Warnings (slow statements under this load) go to stderr; stdout carries the count only.
  spdlog::set_default_logger(spdlog::stderr_color_mt("load_worker"));
  const int worker = std::atoi(argv[1]);
  const int threads = std::atoi(argv[2]);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[3]));
  try {
    const auto config = evstore::config::load(std::filesystem::current_path());
    auto store = evstore::store::open(config.database(), evstore::store_options_from(config));
    const auto start = evstore::timestamp(std::chrono::floor<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch()));
    std::atomic<std::int64_t> committed = 0;
    std::mutex failure_mutex;
    std::string failure;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (std::int64_t n = 0; std::chrono::steady_clock::now() < until; ++n) {
          try {
            one_round(*store, worker, t, n, start);
            ++committed;
          } catch (const std::exception& e) {
            const std::lock_guard lock(failure_mutex);
            failure = fmt::format("thread {} round {}: {}", t, n, e.what());
            return;
          }
        }
      });
    }
    for (auto& thread : pool) {
      thread.join();
    }
    if (!failure.empty()) {
      std::cerr << "error: " << failure << '\n';
      return 1;
    }
    std::cout << "committed " << committed.load() << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
