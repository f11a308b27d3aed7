#pragma once

// The memory half of issue #8: walking one event's long timeline page by page through
// evstore must hold resident memory flat (each page is dropped before the next is read).

#include <cstddef>
#include <ostream>

#include "bench_database.hpp"

namespace evstore::bench {

/// Empties the database, loads one event with `items` media, walks its timeline through a
/// store in pages of page_size (50) and prints one MEMORY line: the resident set after the
/// first page, half way, after the last, and at its highest, sampled after every page.
void walk_timeline(bench_database& db, std::size_t items, std::ostream& out);

}  // namespace evstore::bench
