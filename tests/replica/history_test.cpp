// A history check under load: writers and readers on several threads for 20 s against the
// primary and its standby, with the standby's replay paused and resumed at random. Every read
// of a caller sees the caller's own earlier writes (the same scope, or a scope made from its
// token), and every row read is one that was committed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/store.hpp>

#include "fresh_database.hpp"
#include "standby.hpp"

namespace {

using namespace std::chrono_literals;

constexpr int writers = 3;
constexpr int readers = 3;
constexpr auto run_for = 20s;

// What a writer committed last, and the token that carries it.
struct published {
  evstore::uuid id;
  std::int64_t version = 0;
  std::string token;
};

// Every version of every event that was written, by title (titles are unique per version),
// noted before its write is sent: what a read may return. A version not noted was never
// committed.
class ledger {
 public:
  void writing(const evstore::uuid& id, std::int64_t version, const std::string& title) {
    const std::lock_guard lock(mutex_);
    titles_[{id.to_string(), version}] = title;
  }
  [[nodiscard]] bool holds(const evstore::event& e) const {
    const std::lock_guard lock(mutex_);
    const auto found = titles_.find({e.id.to_string(), e.version});
    return found != titles_.end() && found->second == e.title;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::int64_t>, std::string> titles_;
};

}  // namespace

TEST(replica_history, no_read_misses_its_callers_write_while_replay_pauses_and_resumes) {
  const evstore::test::fresh_postgresql_database database("replica_history");
  evstore::store_options options;
  options.pool.max_size = 8;
  options.replicas.read_your_writes_wait = 20ms;
  auto store = evstore::test::replica_store(database.url(), options);

  ledger history;
  std::vector<published> last(writers);
  std::mutex last_mutex;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> violations{0};
  std::atomic<std::uint64_t> own_reads{0};
  std::atomic<std::uint64_t> carried_reads{0};
  std::atomic<int> pauses{0};
  const auto violation = [&](const std::string& what) {
    if (violations.fetch_add(1) < 10) {
      ADD_FAILURE() << what;
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto scope = store->scope();
      const auto title = [w](std::int64_t version) {
        return "writer " + std::to_string(w) + " version " + std::to_string(version);
      };
      evstore::new_event fresh;
      fresh.id = evstore::uuid::v7();
      fresh.title = title(1);
      fresh.start_time = evstore::timestamp(1767225600000000us);
      history.writing(*fresh.id, 1, fresh.title);
      auto mine = scope.events().create(fresh);
      while (!stop) {
        evstore::event_patch patch;
        patch.title = title(mine.version + 1);
        history.writing(mine.id, mine.version + 1, *patch.title);
        const auto updated = scope.events().update(mine.id, mine.version, patch);
        if (!updated) {
          violation("an event vanished");
          return;
        }
        mine = *updated;
        {
          const std::lock_guard lock(last_mutex);
          last[w] = {mine.id, mine.version, scope.token()};
        }
        const auto read = scope.events().get(mine.id);
        ++own_reads;
        if (!read || read->version < mine.version) {
          violation("writer " + std::to_string(w) + " wrote version " +
                    std::to_string(mine.version) + " and read " +
                    (read ? "version " + std::to_string(read->version) : "nothing"));
        }
      }
    });
  }
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 random(static_cast<unsigned>(r));
      while (!stop) {
        published seen;
        {
          const std::lock_guard lock(last_mutex);
          seen = last[random() % writers];
        }
        if (seen.version == 0) {
          std::this_thread::sleep_for(1ms);
          continue;
        }
        // Another request of the same user, in another process: the token carries the write.
        const auto read = store->scope(seen.token).events().get(seen.id);
        ++carried_reads;
        if (!read || read->version < seen.version) {
          violation("a reader carrying version " + std::to_string(seen.version) + " read " +
                    (read ? "version " + std::to_string(read->version) : "nothing"));
        } else if (!history.holds(*read)) {
          violation("a read returned a version that was never written");
        }
        // A caller with no writes of its own may read any committed version, or none yet.
        const auto any = store->scope().events().get(seen.id);
        if (any && !history.holds(*any)) {
          violation("a read returned a version that was never written");
        }
      }
    });
  }
  threads.emplace_back([&] {
    std::mt19937 random(7);
    const auto until = std::chrono::steady_clock::now() + run_for;
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 400));
      evstore::test::on_standby("SELECT pg_wal_replay_pause()");
      ++pauses;
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 400));
      evstore::test::on_standby("SELECT pg_wal_replay_resume()");
    }
    stop = true;
  });
  for (auto& t : threads) {
    t.join();
  }

  const auto stats = store->statistics();
  const auto standby_reads = stats.replicas.at(0).reads;
  EXPECT_EQ(violations.load(), 0U);
  EXPECT_GT(pauses.load(), 10);
  EXPECT_GT(own_reads.load(), 100U);
  EXPECT_GT(carried_reads.load(), 100U);
  EXPECT_GT(standby_reads, 100U) << "the standby served reads";
  EXPECT_GT(stats.replica_fallbacks, 10U) << "and the primary served those it could not";
  std::cout << "replica history: " << own_reads << " own reads, " << carried_reads
            << " carried reads, " << standby_reads << " served by the standby, "
            << stats.primary_reads << " by the primary (" << stats.replica_fallbacks
            << " fallbacks), " << pauses << " pauses\n";
}
