#pragma once

// Private to libevstore: the files of the repository's seeds/ folder, embedded at build time
// by cmake/EvstoreEmbedFiles.cmake (the generated source defines embedded_seed_files).

#include <string_view>
#include <vector>

namespace evstore::detail {

struct seed_file {
  std::string_view name;  ///< e.g. "profiles.json"
  std::string_view text;
};

/// Every embedded seed file, in the order CMake listed them.
std::vector<seed_file> embedded_seed_files();

}  // namespace evstore::detail
