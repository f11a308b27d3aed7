#include "workloads.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <iostream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <spdlog/fmt/fmt.h>

#include "dataset.hpp"

namespace evstore::bench {
namespace {

using steady = std::chrono::steady_clock;

constexpr std::string_view w5_title = "bench w5";
constexpr int w5_timeline_percent = 80;

// Work done before the timed part, so that connections are open and caches warm.
std::size_t warm_up_count(std::size_t work) {
  return std::max<std::size_t>(5, work / 100);
}

void require(bool ok, contender_kind who, std::string_view what) {
  if (!ok) {
    throw std::runtime_error(fmt::format("{} did not do the work: {}", to_string(who), what));
  }
}

// Runs `work` once and returns how long it took, in microseconds.
template <typename Work>
double timed(Work&& work) {
  const auto start = steady::now();
  work();
  return std::chrono::duration<double, std::micro>(steady::now() - start).count();
}

// Rates from per-operation latencies: units done / time spent in the operations.
measurement from_latencies(std::vector<double> latencies, std::size_t units) {
  double total = 0;
  for (const auto us : latencies) {
    total += us;
  }
  return {static_cast<double>(units) / (total / 1e6), std::move(latencies)};
}

std::vector<contender_kind> contenders_of(const target& db, bool batch_workload) {
  std::vector<contender_kind> kinds{contender_kind::evstore, contender_kind::raw,
                                    contender_kind::soci};
  if (batch_workload && db.kind == backend_kind::postgresql) {
    kinds.push_back(contender_kind::raw_insert);
  }
  // In the rotation with the others, so that the ratio to direct evstore is taken within a
  // repeat, under the same load.
  if (db.pooled_url) {
    kinds.push_back(contender_kind::pgbouncer);
  }
  if (db.standby_url) {
    kinds.push_back(contender_kind::replica);
  }
  return kinds;
}

// Runs every contender `repeats` times, rotating their order from one repeat to the next so
// that none is always first (cold) or last (after the others' garbage).
workload_result measure(backend_kind backend, std::string workload, std::string unit,
                        std::size_t rows, int repeats, const std::vector<contender_kind>& kinds,
                        const std::function<measurement(contender_kind, int)>& run) {
  workload_result result{backend, std::move(workload), std::move(unit), rows, {}};
  for (int repeat = 0; repeat < repeats; ++repeat) {
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      const auto kind = kinds[(i + static_cast<std::size_t>(repeat)) % kinds.size()];
      std::cerr << fmt::format("evstore-bench: {} {} {} (repeat {} of {})\n", to_string(backend),
                               result.workload, to_string(kind), repeat + 1, repeats);
      result.runs[kind].push_back(run(kind, repeat));
    }
  }
  return result;
}

// What the W5 threads did.
struct mixed_outcome {
  std::vector<double> latencies_us;
  std::size_t operations = 0;
  std::size_t creates = 0;
  double seconds = 0;
};

// Runs the W5 mix on `threads` threads for `duration`.
mixed_outcome run_mixed(contender& c, contender_kind who, std::size_t threads, std::size_t events,
                        std::chrono::milliseconds duration, unsigned seed) {
  std::vector<mixed_outcome> outcomes(threads);
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const auto start = steady::now();
  const auto deadline = start + duration;
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        auto& mine = outcomes[t];
        std::mt19937_64 random(seed + t);
        try {
          while (!failed && steady::now() < deadline) {
            if (static_cast<int>(random() % 100) < w5_timeline_percent) {
              const auto id = event_id(random() % events);
              std::vector<media> page;
              mine.latencies_us.push_back(timed([&] { page = c.timeline(id); }));
              require(page.size() == page_size && page.front().event_id == id, who,
                      "a W5 timeline page is not a full page of its event");
            } else {
              auto item = make_event(mine.creates);
              item.id = uuid::v7();
              item.title = w5_title;
              event created;
              mine.latencies_us.push_back(timed([&] { created = c.create_event(item); }));
              require(created.id == *item.id, who, "a W5 create returned another event");
              ++mine.creates;
            }
            ++mine.operations;
          }
        } catch (...) {
          const std::lock_guard lock(failure_mutex);
          failure = std::current_exception();
          failed = true;
        }
      });
    }
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
  mixed_outcome total;
  total.seconds = std::chrono::duration<double>(steady::now() - start).count();
  for (auto& outcome : outcomes) {
    total.operations += outcome.operations;
    total.creates += outcome.creates;
    total.latencies_us.insert(total.latencies_us.end(), outcome.latencies_us.begin(),
                              outcome.latencies_us.end());
  }
  return total;
}

}  // namespace

workload_result workloads::creates() {
  const auto inputs = make_events(sizes_.creates, id_set::created);
  const auto warm = make_events(warm_up_count(sizes_.creates), id_set::warm_up);
  return measure(db_.where().kind, "W1", "events/s", 0, sizes_.repeats,
                 contenders_of(db_.where(), false), [&](contender_kind kind, int) {
                   db_.reset();
                   const auto c = open_contender(kind, db_.where(), 1);
                   for (const auto& item : warm) {
                     static_cast<void>(c->create_event(item));
                   }
                   std::vector<double> latencies;
                   latencies.reserve(inputs.size());
                   for (const auto& item : inputs) {
                     event created;
                     latencies.push_back(timed([&] { created = c->create_event(item); }));
                     require(created.id == *item.id && created.version == 1 &&
                                 created.title == item.title &&
                                 created.start_time == item.start_time,
                             kind, "create returned another event");
                   }
                   require(db_.query_integer("SELECT COUNT(*) FROM events") ==
                               static_cast<long long>(inputs.size() + warm.size()),
                           kind, "W1 left another number of events");
                   return from_latencies(std::move(latencies), inputs.size());
                 });
}

workload_result workloads::batch_inserts() {
  const auto batches =
      make_media_batches(sizes_.w2_media, sizes_.w2_events, sizes_.batch, id_set::loaded);
  const auto warm = make_media_batches(std::min<std::size_t>(sizes_.batch, 100), sizes_.w2_events,
                                       sizes_.batch, id_set::warm_up);
  const auto expected = expected_checksum(batches);
  const auto expected_warm = expected_checksum(warm);
  return measure(db_.where().kind, "W2", "media/s", 0, sizes_.repeats,
                 contenders_of(db_.where(), true), [&](contender_kind kind, int) {
                   db_.reset();
                   db_.load(sizes_.w2_events, 0);
                   const auto c = open_contender(kind, db_.where(), 1);
                   c->add_media(warm.front());
                   std::vector<double> latencies;
                   for (const auto& batch : batches) {
                     latencies.push_back(timed([&] { c->add_media(batch); }));
                   }
                   require(db_.query_integer("SELECT COUNT(*) FROM media") ==
                               static_cast<long long>(sizes_.w2_media + warm.front().size()),
                           kind, "W2 left another number of media");
                   require(db_.query_integer("SELECT SUM(size_bytes) FROM media") ==
                               expected.size + expected_warm.size,
                           kind, "W2 stored other sizes");
                   require(db_.query_integer(fmt::format("SELECT SUM({} % 1000003) FROM media",
                                                         db_.micros("captured_at"))) ==
                               expected.captured + expected_warm.captured,
                           kind, "W2 stored other capture times");
                   // Throughput in media, not batches; the per-batch latencies are not reported.
                   auto result = from_latencies(std::move(latencies), sizes_.w2_media);
                   result.latencies_us.clear();
                   return result;
                 });
}

void workloads::load_read_dataset(std::size_t events) {
  db_.reset();
  db_.load(events, media_per_event);
  read_events_ = events;
  require(db_.query_integer("SELECT COUNT(*) FROM media") ==
              static_cast<long long>(events * media_per_event),
          contender_kind::raw, "the read dataset was not loaded");
}

measurement workloads::random_reads(contender_kind kind, unsigned seed, std::size_t count,
                                    const read& one) {
  const auto c = open_contender(kind, db_.where(), 1);
  // The same events, in the same order, for every contender of a repeat.
  std::mt19937_64 random(seed);
  const auto warm = warm_up_count(count);
  std::vector<double> latencies;
  latencies.reserve(count);
  for (std::size_t i = 0; i < warm + count; ++i) {
    const auto us = one(*c, event_id(random() % read_events_));
    if (i >= warm) {
      latencies.push_back(us);
    }
  }
  auto result = from_latencies(std::move(latencies), count);
  result.standby_share = c->standby_share();
  return result;
}

workload_result workloads::timelines() {
  return measure(
      db_.where().kind, "W3", "pages/s", read_events_ * media_per_event, sizes_.repeats,
      contenders_of(db_.where(), false), [&](contender_kind kind, int repeat) {
        return random_reads(
            kind, static_cast<unsigned>(1000 + repeat), sizes_.pages,
            [&](contender& c, const uuid& id) {
              std::vector<media> page;
              const auto us = timed([&] { page = c.timeline(id); });
              require(page.size() == page_size && page.front().event_id == id &&
                          page.back().event_id == id &&
                          page.front().captured_at <= page.back().captured_at,
                      kind, "a timeline page is not a full page of its event in capture order");
              return us;
            });
      });
}

workload_result workloads::lookups() {
  return measure(db_.where().kind, "W4", "lookups/s", read_events_ * media_per_event,
                 sizes_.repeats, contenders_of(db_.where(), false),
                 [&](contender_kind kind, int repeat) {
                   return random_reads(kind, static_cast<unsigned>(2000 + repeat), sizes_.lookups,
                                       [&](contender& c, const uuid& id) {
                                         std::optional<event> found;
                                         const auto us = timed([&] { found = c.get_event(id); });
                                         require(found && found->id == id, kind,
                                                 "a lookup did not find its event");
                                         return us;
                                       });
                 });
}

workload_result workloads::mixed() {
  const auto warm_duration = std::max(sizes_.w5_duration / 10, std::chrono::milliseconds(50));
  return measure(db_.where().kind, "W5", "ops/s", read_events_ * media_per_event, sizes_.repeats,
                 contenders_of(db_.where(), false), [&](contender_kind kind, int repeat) {
                   const auto c = open_contender(kind, db_.where(), sizes_.w5_connections);
                   const auto seed = static_cast<unsigned>(3000 + 100 * repeat);
                   const auto warm =
                       run_mixed(*c, kind, sizes_.threads, read_events_, warm_duration, seed);
                   const auto timed_run = run_mixed(*c, kind, sizes_.threads, read_events_,
                                                    sizes_.w5_duration, seed + 50);
                   const auto title = fmt::format("title = '{}'", w5_title);
                   require(db_.query_integer("SELECT COUNT(*) FROM events WHERE " + title) ==
                               static_cast<long long>(warm.creates + timed_run.creates),
                           kind, "W5 left another number of created events");
                   require(timed_run.operations > 0, kind, "W5 did no operation");
                   // Back to the loaded dataset for the next contender.
                   db_.execute("DELETE FROM events WHERE " + title);
                   return measurement{static_cast<double>(timed_run.operations) / timed_run.seconds,
                                      timed_run.latencies_us, c->standby_share()};
                 });
}

}  // namespace evstore::bench
