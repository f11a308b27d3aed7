#pragma once

/// @file
/// The profiles and sample events of `evstore seed`: the repository's seeds/profiles.json and
/// seeds/sample_events.json, embedded in libevstore at build time (docs/seed.md).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/export.hpp"
#include "evstore/seed.hpp"

namespace evstore {

/// A named size of data set.
struct seed_profile {
  std::string name;
  std::string description;
  std::int64_t events = 0;  ///< generated events, besides the samples
  std::int64_t media_per_event = 0;
};

/// Everything the seeds/ folder defines.
struct EVSTORE_API seed_catalog {
  std::string default_profile;
  std::uint64_t default_seed = 1;
  seed_timeline timeline;
  std::vector<seed_profile> profiles;  ///< ordered by name
  std::vector<seed_item> samples;      ///< included by every profile

  /// The catalog embedded at build time.
  /// @throws config_error when an embedded file is malformed (a build defect: a test parses
  ///         them).
  [[nodiscard]] static seed_catalog builtin();

  /// Parses the text of a profiles file and of a sample events file. Timestamps are
  /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`; every sample and sample medium has an id and passes
  /// validation.
  /// @throws config_error naming the file, the entry and what is wrong.
  [[nodiscard]] static seed_catalog parse(std::string_view profiles_json,
                                          std::string_view samples_json);

  /// The profile called `name`.
  /// @throws config_error naming the known profiles.
  [[nodiscard]] const seed_profile& profile(std::string_view name) const;

  /// A plan for `profile` with `seed`, the catalog's timeline and samples.
  [[nodiscard]] seed_plan plan(const seed_profile& profile, std::uint64_t seed) const;
};

}  // namespace evstore
