#pragma once

// The benchmark's data: deterministic inputs, the same for every contender, and the SQL that
// makes the database generate large read datasets itself (fast at 10^7 rows too).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <evstore/model.hpp>

#include "contender.hpp"

namespace evstore::bench {

/// Which set of inputs an id belongs to; the sets never share an id.
enum class id_set : std::uint16_t { loaded = 0, created = 1, warm_up = 2 };

/// The n-th event id of a set: "nnnnnnnn-ssss-7000-8000-000000000000" (n and the set in hex).
[[nodiscard]] uuid event_id(std::size_t n, id_set set = id_set::loaded);
/// The n-th media id of a set: as event_id, ending in 1.
[[nodiscard]] uuid media_id(std::size_t n, id_set set = id_set::loaded);

/// Where the generated timestamps start: 2026-01-01T00:00:00Z.
inline constexpr long long epoch_of_data_us = 1767225600LL * 1000000;

/// `count` events of a set, as a caller would create them.
[[nodiscard]] std::vector<new_event> make_events(std::size_t count, id_set set);

/// A new event without an id yet, as W5 creates them.
[[nodiscard]] new_event make_event(std::size_t n);

/// Media j = 0..count-1 of a set, for event (j % events) of the loaded set, in batches of
/// `batch_size`; the same values as load_statements generates for the loaded set.
[[nodiscard]] std::vector<std::vector<new_media>> make_media_batches(std::size_t count,
                                                                     std::size_t events,
                                                                     std::size_t batch_size,
                                                                     id_set set);

/// The sum over media j = first..first+count-1 of (captured_at in microseconds) % 1000003
/// and of size_bytes, to check that every value arrived intact (a 32-bit truncation, say).
struct media_checksum {
  long long captured = 0;
  long long size = 0;
};
[[nodiscard]] media_checksum expected_checksum(const std::vector<std::vector<new_media>>& batches);

/// SQL making `events` events of the loaded set and media_per_event media for each.
[[nodiscard]] std::vector<std::string> load_statements(backend_kind kind, std::size_t events,
                                                       std::size_t media_per_event);

}  // namespace evstore::bench
