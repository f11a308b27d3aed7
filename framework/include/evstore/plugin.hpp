#pragma once

/// @file
/// What a plugin library exports: one C-linkage entry point whose name carries the plugin
/// ABI version, returning a descriptor that this header's macros fill in with the values of
/// the SDK the plugin was built against. The loader checks the descriptor before it runs any
/// other code of the plugin, and refuses a plugin built for another ABI.
///
/// A plugin source file defines its backend class and then, once:
///
///     EVSTORE_PLUGIN(my_backend, "mydb", "1.2.0")
///
/// The ABI policy (what the record holds, what bumps the version) is in docs/plugins.md.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include <soci/version.h>

#include "evstore/backend.hpp"
#include "evstore/version.hpp"

#define EVSTORE_DETAIL_STRINGIFY2(x) #x
#define EVSTORE_DETAIL_STRINGIFY(x) EVSTORE_DETAIL_STRINGIFY2(x)
#define EVSTORE_DETAIL_CONCAT2(a, b) a##b
#define EVSTORE_DETAIL_CONCAT(a, b) EVSTORE_DETAIL_CONCAT2(a, b)

#if defined(__clang__)
#define EVSTORE_DETAIL_COMPILER "clang-" EVSTORE_DETAIL_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define EVSTORE_DETAIL_COMPILER "gcc-" EVSTORE_DETAIL_STRINGIFY(__GNUC__)
#else
#error "evstore plugins are built with GCC or Clang"
#endif

/// What must agree between libevstore and a plugin besides the ABI version: the compiler, the
/// libstdc++ string ABI, and the SOCI major.minor (SOCI types cross the boundary), e.g.
/// "gcc-12;cxx11abi=1;soci=4.0".
#define EVSTORE_PLUGIN_ABI_TAG (evstore::detail::plugin_abi_tag.text)

/// The entry point's symbol name for this SDK: evstore_plugin_entry_v<ABI>.
#define EVSTORE_PLUGIN_ENTRY \
  EVSTORE_DETAIL_CONCAT(evstore_plugin_entry_v, EVSTORE_PLUGIN_ABI_VERSION)
#define EVSTORE_PLUGIN_ENTRY_NAME EVSTORE_DETAIL_STRINGIFY(EVSTORE_PLUGIN_ENTRY)

extern "C" {

/// Creates the backend. On success stores a new backend in `*out` (the caller owns it) and
/// returns 0; on failure returns non-zero and writes a NUL-terminated reason into `message`.
typedef int (*evstore_plugin_factory)(evstore::backend** out, char* message,
                                      std::size_t message_size);

/// The ABI record. Fields are only ever appended; `struct_size` tells which exist.
struct evstore_plugin_descriptor {
  std::uint32_t struct_size;      ///< sizeof(evstore_plugin_descriptor) in the plugin
  std::uint32_t abi_version;      ///< EVSTORE_PLUGIN_ABI_VERSION
  const char* abi_tag;            ///< EVSTORE_PLUGIN_ABI_TAG
  const char* sdk_version;        ///< EVSTORE_VERSION_STRING the plugin was built against
  const char* name;               ///< the backend's name
  const char* plugin_version;     ///< the plugin's own version
  evstore_plugin_factory create;  ///< never throws
};

/// The type of the entry point.
typedef const evstore_plugin_descriptor*(evstore_plugin_entry)();
}

namespace evstore {

/// The migration files embedded in this plugin by `evstore_add_plugin(... MIGRATIONS ...)`
/// (none when it names none). Defined by the generated source, one per plugin.
std::vector<migration_file> plugin_migration_files();

}  // namespace evstore

namespace evstore::detail {

/// A NUL-terminated string built at compile time.
struct abi_tag_text {
  char text[64] = {};
  std::size_t size = 0;

  constexpr void append(const char* part) {
    while (*part != '\0' && size + 1 < sizeof(text)) {
      text[size++] = *part++;
    }
  }
  constexpr void append(unsigned number) {
    char digits[12] = {};
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + number % 10);
      number /= 10;
    } while (number != 0);
    while (count > 0 && size + 1 < sizeof(text)) {
      text[size++] = digits[--count];
    }
  }
};

constexpr abi_tag_text make_plugin_abi_tag() {
  abi_tag_text tag;
  tag.append(EVSTORE_DETAIL_COMPILER
             ";cxx11abi=" EVSTORE_DETAIL_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) ";soci=");
  tag.append(unsigned{SOCI_VERSION / 100000});
  tag.append(".");
  tag.append(unsigned{SOCI_VERSION / 100 % 1000});
  return tag;
}

/// The ABI tag of the code that includes this header.
inline constexpr abi_tag_text plugin_abi_tag = make_plugin_abi_tag();

/// The factory EVSTORE_PLUGIN installs: constructs `Backend`, turning any exception into a
/// return code and message, since nothing may unwind through the C boundary.
template <typename Backend>
int create_backend(backend** out, char* message, std::size_t message_size) noexcept {
  try {
    *out = std::make_unique<Backend>().release();
    return 0;
  } catch (const std::exception& e) {
    std::strncpy(message, e.what(), message_size - 1);
  } catch (...) {
    std::strncpy(message, "unknown exception", message_size - 1);
  }
  message[message_size - 1] = '\0';
  return 1;
}

}  // namespace evstore::detail

/// Defines the plugin entry point for backend class `backend_type`, default-constructible.
#define EVSTORE_PLUGIN(backend_type, backend_name, version)                          \
  extern "C" __attribute__((visibility("default"))) const evstore_plugin_descriptor* \
  EVSTORE_PLUGIN_ENTRY() {                                                           \
    static const evstore_plugin_descriptor descriptor{                               \
        sizeof(evstore_plugin_descriptor),                                           \
        EVSTORE_PLUGIN_ABI_VERSION,                                                  \
        EVSTORE_PLUGIN_ABI_TAG,                                                      \
        EVSTORE_VERSION_STRING,                                                      \
        backend_name,                                                                \
        version,                                                                     \
        &evstore::detail::create_backend<backend_type>};                             \
    return &descriptor;                                                              \
  }
