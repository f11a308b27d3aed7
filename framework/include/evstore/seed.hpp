#pragma once

/// @file
/// Deterministic development and load-test data: what `evstore seed` inserts (docs/seed.md).
///
/// A seed plan names a seed and sizes. Every generated event and medium is a pure function of
/// (seed, the event's index, the medium's index, the timeline): the same values on every
/// machine, compiler and standard library, so that the same plan gives the same rows on
/// PostgreSQL and SQLite. The generator uses std::mt19937_64 (whose output the standard fixes)
/// with its own mapping to ranges, never std::uniform_*_distribution (whose output differs
/// between standard libraries), and no floating-point function other than one division.
///
/// Ids are derived from the seed too, so seeding is idempotent: an event whose id is already
/// stored is left as it is, with its media (see seed_database).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "evstore/export.hpp"
#include "evstore/model.hpp"

namespace evstore {

class store;

/// The span generated events fall in.
struct seed_timeline {
  timestamp from{};  ///< the earliest start
  timestamp to{};    ///< the latest start
  /// The data set's "now": an event that ended before it is completed (or cancelled), one
  /// that spans it is live, one that starts after it is scheduled (or a draft).
  timestamp now{};
};

/// An event with the media captured during it; the two are always inserted together.
struct seed_item {
  new_event event;  ///< with its id set
  std::vector<new_media> media;
};

/// Exactly what one seeding run inserts.
struct seed_plan {
  std::uint64_t seed = 1;
  std::int64_t events = 0;           ///< generated events, besides the samples
  std::int64_t media_per_event = 0;  ///< media of each generated event
  seed_timeline timeline{};
  /// Hand-written events (with ids and media) inserted before the generated ones.
  std::vector<seed_item> samples{};
};

/// The generated event number `index` (0-based) of `plan`, with its `plan.media_per_event`
/// media. Pure: it depends on plan.seed, plan.timeline and, for the media, plan.media_per_event
/// only, and event `index` is the same whatever plan.events is. Medium `j` of an event is the
/// same whatever plan.media_per_event is (a larger value only adds media).
///
/// Ids are UUIDv8 (RFC 9562, custom): the first 48 bits are the row's own time (the event's
/// start, the medium's capture) in Unix milliseconds, so ids sort by time as UUIDv7 do, and
/// the other 74 bits come from the generator.
/// @throws validation_error (field "index") for a negative index or one past plan.events.
[[nodiscard]] EVSTORE_API seed_item generate_seed_item(const seed_plan& plan, std::int64_t index);

/// How far a seeding run has got; the last one is its report.
struct seed_progress {
  std::int64_t rows_total = 0;       ///< events and media of the plan
  std::int64_t rows_done = 0;        ///< inserted, or skipped as already there
  std::int64_t events_inserted = 0;  ///< new events
  std::int64_t media_inserted = 0;   ///< new media
  std::int64_t events_existing = 0;  ///< events whose id was already stored: left as they were
  std::int64_t media_skipped = 0;    ///< the planned media of those events, not inserted
  std::chrono::steady_clock::duration elapsed{};
};

struct seed_options {
  /// About how many rows (events and media) each transaction inserts. An event is never split
  /// from its media, so a transaction may hold more when one event has more media.
  std::size_t batch_rows = 1000;
  /// Called after every batch, from the calling thread.
  std::function<void(const seed_progress&)> on_progress{};
};

/// Inserts `plan` into a migrated database: the samples, then events 0 .. plan.events - 1 of
/// generate_seed_item, each batch of events with all their media in one transaction (through
/// event_repository::create_many and media_repository::add_many), so that a stored event
/// always has all its media, even after an interrupted run.
///
/// Idempotent: an event whose id is already stored is skipped together with its media. So a
/// second run of the same plan inserts nothing; a run with a larger plan.events adds only the
/// new events; a changed plan.media_per_event does not touch events already stored.
///
/// @returns the final progress.
/// @throws validation_error for a negative size or a timeline whose `from` is after `to`;
///         the evstore::error a write fails with (the batch is rolled back; earlier batches
///         stay, and a rerun completes the work).
EVSTORE_API seed_progress seed_database(store& target, const seed_plan& plan,
                                        const seed_options& options = {});

}  // namespace evstore
