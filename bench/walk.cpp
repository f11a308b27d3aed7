#include "walk.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <spdlog/fmt/fmt.h>

#include <evstore/store.hpp>

#include "dataset.hpp"

namespace evstore::bench {
namespace {

// This process's resident set, in KiB (/proc/self/statm counts pages).
long long resident_kib() {
  std::ifstream statm("/proc/self/statm");
  long long size = 0;
  long long resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

void walk_timeline(bench_database& db, std::size_t items, std::ostream& out) {
  db.reset();
  db.load(1, items);
  store_options options;
  options.pool.max_size = 1;
  const auto store = store::open(db.where().url, options);
  const auto id = event_id(0);
  page_request request{page_size, std::nullopt};
  std::size_t pages = 0;
  std::size_t walked = 0;
  long long first = 0;
  long long half = 0;
  long long peak = 0;
  for (;;) {
    auto page = store->media().timeline(id, {}, request);
    walked += page.items.size();
    ++pages;
    const auto now = resident_kib();
    first = pages == 1 ? now : first;
    half = walked <= items / 2 ? now : half;
    peak = std::max(peak, now);
    if (!page.next_cursor) {
      break;
    }
    request.cursor = std::move(page.next_cursor);
  }
  if (walked != items) {
    throw std::runtime_error(
        fmt::format("evstore-bench: the walk read {} media of {}", walked, items));
  }
  const auto last = resident_kib();
  out << fmt::format(
             "MEMORY backend={} workload=walk items={} pages={} rss_first_page_kib={} "
             "rss_half_way_kib={} rss_peak_kib={} rss_last_page_kib={} growth_kib={} "
             "second_half_growth_kib={}",
             to_string(db.where().kind), items, pages, first, half, peak, last, last - first,
             last - half)
      << std::endl;
}

}  // namespace evstore::bench
