#include "evstore/plugin_registry.hpp"

// Boost 1.74's library_info.hpp, with BOOST_DLL_USE_STD_FS, needs these included before it.
#include <string>
#include <vector>

#include <boost/dll/library_info.hpp>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <system_error>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "evstore/plugin.hpp"

namespace fs = std::filesystem;

namespace evstore {
namespace {

constexpr std::string_view plugin_prefix = "evstore_";
constexpr std::string_view plugin_suffix = ".so";
constexpr std::string_view entry_prefix = "evstore_plugin_entry_v";
// The fields every ABI 1 descriptor has; later SDKs append fields and a plugin built against
// an older SDK of the same ABI still loads (docs/plugins.md, ABI policy).
constexpr std::size_t abi_1_descriptor_size =
    offsetof(evstore_plugin_descriptor, create) + sizeof(evstore_plugin_factory);

// Plugins never unload: what they made (backends, sessions, exception objects) may outlive any
// handle, and PostgreSQL, LLVM and Qt make the same choice. RTLD_NOW makes an unresolved symbol
// a load error instead of a crash at its first call.
const auto load_mode =
    static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

[[noreturn]] void refuse(plugin_failure failure, const fs::path& file, const std::string& why) {
  throw plugin_error(failure, file, fmt::format("plugin {}: {}", file.string(), why));
}

bool writable_by_others(const fs::path& path) {
  const auto perms = fs::status(path).permissions();
  return (perms & (fs::perms::group_write | fs::perms::others_write)) != fs::perms::none;
}

void check_permissions(const fs::path& file) {
  if (writable_by_others(file)) {
    refuse(plugin_failure::unsafe_permissions, file,
           "the file is writable by group or others; anyone could replace the code evstore runs "
           "(chmod go-w it)");
  }
  if (writable_by_others(file.parent_path())) {
    refuse(plugin_failure::unsafe_permissions, file,
           fmt::format("its folder {} is writable by group or others; anyone could replace the "
                       "plugin (chmod go-w the folder)",
                       file.parent_path().string()));
  }
}

// The symbols of the file's symbol table, read without loading it; empty when the file is
// stripped. Boost.DLL throws a bare iostream error for anything that is not ELF.
std::vector<std::string> read_symbols(const fs::path& file) {
  try {
    boost::dll::library_info info(file);
    return info.symbols();
  } catch (const std::exception&) {
    refuse(plugin_failure::not_a_plugin, file, "not an ELF shared object");
  }
}

// The ABI major in an entry point's name (evstore_plugin_entry_v7 gives "7"), or "".
std::string entry_version(std::string_view symbol) {
  if (!symbol.starts_with(entry_prefix)) {
    return {};
  }
  return std::string(symbol.substr(entry_prefix.size()));
}

// Refuses a file whose symbol table shows an entry point for another ABI, or none, before
// any of its code runs. A stripped file (no symbol table) is checked after loading instead.
void check_entry_point_symbols(const fs::path& file, const std::vector<std::string>& symbols) {
  if (symbols.empty() ||
      std::find(symbols.begin(), symbols.end(), EVSTORE_PLUGIN_ENTRY_NAME) != symbols.end()) {
    return;
  }
  for (const auto& symbol : symbols) {
    if (auto version = entry_version(symbol); !version.empty()) {
      refuse(plugin_failure::abi_mismatch, file,
             fmt::format("plugin ABI version differs: plugin {}, evstore {} (it exports {}, "
                         "evstore looks for {}); rebuild it against this evstore SDK: "
                         "find_package(evstore {}.{}) in its CMakeLists.txt, then build it again",
                         version, EVSTORE_PLUGIN_ABI_VERSION, symbol, EVSTORE_PLUGIN_ENTRY_NAME,
                         EVSTORE_VERSION_MAJOR, EVSTORE_VERSION_MINOR));
    }
  }
  refuse(plugin_failure::not_a_plugin, file,
         fmt::format("no entry point {}; is it an evstore plugin?", EVSTORE_PLUGIN_ENTRY_NAME));
}

boost::dll::shared_library open_library(const fs::path& file) {
  try {
    return boost::dll::shared_library(file, load_mode);
  } catch (const std::exception& e) {
    // Boost.DLL appends the dynamic loader's own words, which say what is wrong.
    // Boost.DLL's text is "...(dlerror system message: WHY): <error code text>".
    std::string why = e.what();
    constexpr std::string_view marker = "dlerror system message: ";
    const auto start = why.find(marker);
    const auto end = why.rfind("): ");
    if (start != std::string::npos && end != std::string::npos && end > start) {
      why = why.substr(start + marker.size(), end - start - marker.size());
    }
    const auto failure = why.find("undefined symbol") != std::string::npos
                             ? plugin_failure::unresolved_symbol
                             : plugin_failure::load_failed;
    refuse(failure, file, fmt::format("the dynamic loader refused it: {}", why));
  }
}

std::string copy_string(const char* text) {
  return text == nullptr ? std::string() : text;
}

// Reads the ABI record, refusing any field that disagrees with this evstore, all named at once.
plugin_info read_descriptor(const fs::path& file, const evstore_plugin_descriptor* descriptor) {
  if (descriptor == nullptr) {
    refuse(plugin_failure::not_a_plugin, file, "its entry point returned no descriptor");
  }
  if (descriptor->struct_size < abi_1_descriptor_size) {
    refuse(plugin_failure::abi_mismatch, file,
           fmt::format("descriptor size differs: plugin {}, evstore needs at least {}",
                       descriptor->struct_size, abi_1_descriptor_size));
  }
  plugin_info info;
  info.abi_version = descriptor->abi_version;
  info.abi_tag = copy_string(descriptor->abi_tag);
  info.sdk_version = copy_string(descriptor->sdk_version);
  info.name = copy_string(descriptor->name);
  info.plugin_version = copy_string(descriptor->plugin_version);
  info.file = file;

  std::vector<std::string> differences;
  if (info.abi_version != EVSTORE_PLUGIN_ABI_VERSION) {
    differences.push_back(fmt::format("plugin ABI version differs: plugin {}, evstore {}",
                                      info.abi_version, EVSTORE_PLUGIN_ABI_VERSION));
  }
  if (info.abi_tag != EVSTORE_PLUGIN_ABI_TAG) {
    differences.push_back(fmt::format("ABI tag differs: plugin \"{}\", evstore \"{}\"",
                                      info.abi_tag, EVSTORE_PLUGIN_ABI_TAG));
  }
  if (!differences.empty()) {
    refuse(plugin_failure::abi_mismatch, file,
           fmt::format("{}; rebuild it against this evstore SDK (built with SDK {})",
                       fmt::join(differences, "; "), info.sdk_version));
  }
  if (info.name.empty() || descriptor->create == nullptr) {
    refuse(plugin_failure::not_a_plugin, file, "its descriptor has no name or no factory");
  }
  return info;
}

std::shared_ptr<const backend> create_backend(const fs::path& file,
                                              const evstore_plugin_descriptor& descriptor) {
  constexpr std::size_t message_size = 512;
  char message[message_size] = {};
  backend* created = nullptr;
  if (descriptor.create(&created, message, message_size) != 0 || created == nullptr) {
    refuse(plugin_failure::factory_failed, file,
           fmt::format("its factory failed: {}", message[0] != '\0' ? message : "no reason given"));
  }
  return std::shared_ptr<const backend>(created);
}

bool is_plugin_file_name(const fs::path& file) {
  const auto name = file.filename().string();
  return name.size() > plugin_prefix.size() + plugin_suffix.size() &&
         name.starts_with(plugin_prefix) && name.ends_with(plugin_suffix);
}

}  // namespace

loaded_plugin load_plugin(const fs::path& requested) {
  std::error_code ec;
  const fs::path file = fs::canonical(fs::absolute(requested), ec);
  if (ec || !fs::is_regular_file(file)) {
    refuse(plugin_failure::missing_file, requested, "no such file");
  }
  check_permissions(file);
  check_entry_point_symbols(file, read_symbols(file));

  const auto library = open_library(file);
  if (!library.has(EVSTORE_PLUGIN_ENTRY_NAME)) {
    refuse(plugin_failure::not_a_plugin, file,
           fmt::format("no entry point {}; is it an evstore plugin?", EVSTORE_PLUGIN_ENTRY_NAME));
  }
  const auto* descriptor = library.get<evstore_plugin_entry>(EVSTORE_PLUGIN_ENTRY_NAME)();
  loaded_plugin plugin{read_descriptor(file, descriptor), nullptr};
  plugin.backend = create_backend(file, *descriptor);
  try {
    plugin.info.schemes = plugin.backend->schemes();
  } catch (const std::exception& e) {
    refuse(plugin_failure::factory_failed, file, fmt::format("its backend failed: {}", e.what()));
  }
  spdlog::debug("loaded plugin {} {} from {}", plugin.info.name, plugin.info.plugin_version,
                file.string());
  return plugin;
}

std::vector<fs::path> plugin_registry::search_path(std::string_view evstore_plugin_path) {
  std::vector<fs::path> folders;
  std::string_view rest = evstore_plugin_path;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path entry(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    // An empty or relative entry would mean the working directory: never search it.
    if (entry.is_absolute()) {
      folders.push_back(entry.lexically_normal());
    }
  }
  const fs::path core = boost::dll::this_line_location();
  folders.push_back(fs::weakly_canonical(core.parent_path() / "evstore" / "plugins"));
  return folders;
}

plugin_registry plugin_registry::discover(const std::vector<fs::path>& path) {
  plugin_registry registry;
  registry.folders_ = path;
  for (const auto& folder : path) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (is_plugin_file_name(entry.path())) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const auto earlier = std::find_if(
          registry.plugins_.begin(), registry.plugins_.end(),
          [&](const loaded_plugin& p) { return p.info.file.filename() == file.filename(); });
      if (earlier != registry.plugins_.end()) {
        registry.probes_.push_back(
            {file, false, fmt::format("shadowed by {}", earlier->info.file.string()), {}});
        continue;
      }
      try {
        registry.add(load_plugin(file));
      } catch (const plugin_error& e) {
        spdlog::warn("{}", e.what());
        registry.probes_.push_back({file, false, e.what(), e.failure()});
      }
    }
  }
  return registry;
}

void plugin_registry::add(loaded_plugin plugin) {
  for (const auto& scheme : plugin.info.schemes) {
    for (const auto& other : plugins_) {
      const auto& claimed = other.info.schemes;
      if (std::find(claimed.begin(), claimed.end(), scheme) != claimed.end()) {
        plugin_error conflict(
            plugin_failure::duplicate_scheme, plugin.info.file,
            fmt::format("plugin {}: claims URL scheme \"{}\", which plugin {} already serves; "
                        "remove one of them from the plugin path",
                        plugin.info.file.string(), scheme, other.info.file.string()));
        scheme_conflicts_.push_back({scheme, conflict});
        throw conflict;
      }
    }
  }
  probes_.push_back({plugin.info.file, true, "loaded", {}});
  plugins_.push_back(std::move(plugin));
}

const loaded_plugin& plugin_registry::plugin_for(std::string_view scheme) const {
  for (const auto& conflict : scheme_conflicts_) {
    if (conflict.scheme == scheme) {
      throw conflict.refusal;
    }
  }
  for (const auto& plugin : plugins_) {
    const auto& schemes = plugin.info.schemes;
    if (std::find(schemes.begin(), schemes.end(), scheme) != schemes.end()) {
      return plugin;
    }
  }
  std::vector<std::string> folders;
  for (const auto& folder : folders_) {
    folders.push_back(folder.string());
  }
  const auto refused = std::count_if(probes_.begin(), probes_.end(),
                                     [](const plugin_probe& p) { return p.failure.has_value(); });
  throw plugin_error(plugin_failure::no_backend, {},
                     fmt::format("no plugin serves URL scheme \"{}\"; searched {} ({} file(s) "
                                 "refused; `evstore plugins doctor` shows why)",
                                 scheme, fmt::join(folders, ":"), refused));
}

}  // namespace evstore
