#pragma once

/// @file
/// Finding, checking and loading backend plugins.
///
/// A plugin is a file named `evstore_<name>.so`. The search path is, in order: each
/// absolute folder in EVSTORE_PLUGIN_PATH (colon-separated; empty and relative entries are
/// ignored, so the working directory is never searched), then `evstore/plugins` beside
/// libevstore itself (in an install, `<prefix>/lib/evstore/plugins`; the build tree has the
/// same shape). A plugin whose name was already loaded from an earlier folder is skipped,
/// as PATH does. Loaded libraries are never unloaded.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/backend.hpp"
#include "evstore/error.hpp"
#include "evstore/export.hpp"

namespace evstore {

/// What a loaded plugin says about itself, copied from its ABI record.
struct plugin_info {
  std::string name;
  std::string plugin_version;
  std::string sdk_version;
  std::uint32_t abi_version = 0;
  std::string abi_tag;
  std::vector<std::string> schemes;
  std::filesystem::path file;  ///< absolute and canonical
};

/// A loaded plugin: its record and its backend. Copies share the backend.
struct loaded_plugin {
  plugin_info info;
  std::shared_ptr<const evstore::backend> backend;
};

/// Checks and loads one plugin file.
/// @param file the plugin; made absolute and canonical before it is opened.
/// @throws plugin_error with the failure and a message naming the file: missing_file,
///         unsafe_permissions, not_a_plugin, load_failed, unresolved_symbol, abi_mismatch
///         (naming each differing field with both values) or factory_failed.
[[nodiscard]] EVSTORE_API loaded_plugin load_plugin(const std::filesystem::path& file);

/// The outcome of one file tried during discovery, for `evstore plugins doctor`.
struct plugin_probe {
  std::filesystem::path file;
  bool accepted = false;
  std::string detail;  ///< "loaded", "shadowed by <file>", or the refusal's message
  std::optional<plugin_failure> failure;
};

/// The plugins found on a search path, and every file tried on the way.
class EVSTORE_API plugin_registry {
 public:
  /// The search path described above, from the value of EVSTORE_PLUGIN_PATH (may be empty).
  [[nodiscard]] static std::vector<std::filesystem::path> search_path(
      std::string_view evstore_plugin_path);

  /// Loads every `evstore_*.so` in the given folders. A refused file is recorded, not thrown,
  /// so that one bad plugin does not stop the others; asking for its scheme then reports it.
  [[nodiscard]] static plugin_registry discover(const std::vector<std::filesystem::path>& path);

  /// The folders searched, in order.
  [[nodiscard]] const std::vector<std::filesystem::path>& folders() const noexcept {
    return folders_;
  }
  [[nodiscard]] const std::vector<loaded_plugin>& plugins() const noexcept { return plugins_; }
  [[nodiscard]] const std::vector<plugin_probe>& probes() const noexcept { return probes_; }

  /// The plugin serving `scheme`.
  /// @throws plugin_error duplicate_scheme when two plugins claim it, no_backend when none
  ///         does (the message lists the folders searched and how many files were refused).
  [[nodiscard]] const loaded_plugin& plugin_for(std::string_view scheme) const;

 private:
  void add(loaded_plugin plugin);

  std::vector<std::filesystem::path> folders_;
  std::vector<loaded_plugin> plugins_;
  std::vector<plugin_probe> probes_;
  struct scheme_conflict {
    std::string scheme;
    plugin_error refusal;
  };
  std::vector<scheme_conflict> scheme_conflicts_;
};

}  // namespace evstore
