#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"

namespace evstore::cli {

exit_code list_plugins(const context& ctx) {
  const auto registry = ctx.discover_plugins();
  if (registry.plugins().empty()) {
    std::cout << "no plugins found; `evstore plugins doctor` shows where evstore looked\n";
    return exit_code::plugin;
  }
  std::cout << fmt::format("{:<12} {:<22} {:<9} {:<5} {}\n", "NAME", "SCHEMES", "VERSION", "ABI",
                           "FILE");
  for (const auto& plugin : registry.plugins()) {
    const auto& info = plugin.info;
    std::cout << fmt::format("{:<12} {:<22} {:<9} {:<5} {}\n", info.name,
                             fmt::format("{}", fmt::join(info.schemes, ",")), info.plugin_version,
                             info.abi_version, info.file.string());
  }
  return exit_code::ok;
}

exit_code plugins_doctor(const context& ctx) {
  const auto registry = ctx.discover_plugins();
  const auto plugin_path = ctx.config().get("EVSTORE_PLUGIN_PATH");
  std::cout << "search path: "
            << (plugin_path ? "EVSTORE_PLUGIN_PATH (from " +
                                  ctx.config().origin("EVSTORE_PLUGIN_PATH") + "), then "
                            : std::string("EVSTORE_PLUGIN_PATH not set; "))
            << "the folder beside libevstore\n";
  for (const auto& folder : registry.folders()) {
    std::cout << "  " << folder.string()
              << (std::filesystem::is_directory(folder) ? "" : "  (no such folder)") << '\n';
  }
  std::cout << "files tried:\n";
  if (registry.probes().empty()) {
    std::cout << "  none: no evstore_*.so in any folder\n";
  }
  bool refused = false;
  for (const auto& probe : registry.probes()) {
    refused = refused || probe.failure.has_value();
    std::cout << fmt::format("  {:<8} {}\n           {}\n",
                             probe.accepted ? "ok" : (probe.failure ? "REFUSED" : "skipped"),
                             probe.file.string(), probe.detail);
  }
  return refused ? exit_code::plugin : exit_code::ok;
}

}  // namespace evstore::cli
