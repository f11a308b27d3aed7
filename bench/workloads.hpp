#pragma once

// The workloads W1-W5 of issue #8 (docs/performance.md describes each). Every contender runs
// each one from the same state, in an order rotated from repeat to repeat, after a warm-up;
// afterwards the database is checked for the work it should hold, and any shortfall throws.

#include <chrono>
#include <cstddef>
#include <functional>

#include "bench_database.hpp"
#include "report.hpp"

namespace evstore::bench {

/// How much work each workload does.
struct sizes {
  std::size_t creates = 2000;      ///< W1
  std::size_t w2_events = 2000;    ///< W2: the events the media belong to
  std::size_t w2_media = 200000;   ///< W2
  std::size_t batch = 1000;        ///< W2: media per add_many call
  std::size_t pages = 20000;       ///< W3
  std::size_t lookups = 20000;     ///< W4
  std::size_t read_events = 2000;  ///< W3-W5 read this many events, media_per_event each
  std::size_t threads = 8;         ///< W5
  std::size_t w5_connections = 4;  ///< W5: the pool every thread shares
  std::chrono::milliseconds w5_duration{10000};
  int repeats = 1;  ///< each contender runs each workload this often; medians are reported
};

/// The media of each event in the read dataset: two timeline pages.
inline constexpr std::size_t media_per_event = 100;

class workloads {
 public:
  workloads(bench_database& db, const sizes& amounts) : db_(db), sizes_(amounts) {}

  /// W1: single creates, each its own transaction.
  workload_result creates();
  /// W2: media added in batches.
  workload_result batch_inserts();

  /// Empties the database and loads `events` events with media_per_event media each, which
  /// timelines(), lookups() and mixed() read.
  void load_read_dataset(std::size_t events);
  /// W3: first timeline pages of random events.
  workload_result timelines();
  /// W4: events looked up by id.
  workload_result lookups();
  /// W5: threads sharing a small pool, mostly reading timelines, sometimes creating.
  workload_result mixed();

 private:
  /// One read of event `id`, checked; returns the microseconds the read itself took.
  using read = std::function<double(contender&, const uuid&)>;
  /// `count` reads of random events (after a warm-up) by a new contender of one connection.
  measurement random_reads(contender_kind kind, unsigned seed, std::size_t count, const read& one);

  bench_database& db_;
  sizes sizes_;
  std::size_t read_events_ = 0;
};

}  // namespace evstore::bench
