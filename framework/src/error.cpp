#include "evstore/error.hpp"

#include <utility>

namespace evstore {

const char* to_string(error_category category) noexcept {
  switch (category) {
    case error_category::config:
      return "config";
    case error_category::plugin:
      return "plugin";
    case error_category::connection:
      return "connection";
    case error_category::transient:
      return "transient";
    case error_category::constraint:
      return "constraint";
    case error_category::database:
      return "database";
    case error_category::migration:
      return "migration";
    case error_category::validation:
      return "validation";
    case error_category::timeout:
      return "timeout";
    case error_category::conflict:
      return "conflict";
    case error_category::commit_unknown:
      return "commit_unknown";
  }
  return "unknown";
}

const char* to_string(plugin_failure failure) noexcept {
  switch (failure) {
    case plugin_failure::missing_file:
      return "missing_file";
    case plugin_failure::not_a_plugin:
      return "not_a_plugin";
    case plugin_failure::abi_mismatch:
      return "abi_mismatch";
    case plugin_failure::unresolved_symbol:
      return "unresolved_symbol";
    case plugin_failure::load_failed:
      return "load_failed";
    case plugin_failure::duplicate_scheme:
      return "duplicate_scheme";
    case plugin_failure::unsafe_permissions:
      return "unsafe_permissions";
    case plugin_failure::factory_failed:
      return "factory_failed";
    case plugin_failure::no_backend:
      return "no_backend";
  }
  return "unknown";
}

error::error(error_category category, const std::string& message, std::string native_code,
             std::string backend)
    : std::runtime_error(message),
      category_(category),
      native_code_(std::move(native_code)),
      backend_(std::move(backend)) {}

// Out-of-line destructors: each class's vtable and type_info live once, in libevstore, so a
// plugin's throw and an application's catch agree on the type.
error::~error() = default;

config_error::config_error(const std::string& message) : error(error_category::config, message) {}
config_error::~config_error() = default;

plugin_error::plugin_error(plugin_failure failure, std::filesystem::path file,
                           const std::string& detail)
    : error(error_category::plugin, detail), failure_(failure), file_(std::move(file)) {}
plugin_error::~plugin_error() = default;

connection_error::connection_error(const std::string& message, std::string native_code,
                                   std::string backend)
    : error(error_category::connection, message, std::move(native_code), std::move(backend)) {}
connection_error::~connection_error() = default;

transient_error::transient_error(const std::string& message, std::string native_code,
                                 std::string backend)
    : error(error_category::transient, message, std::move(native_code), std::move(backend)) {}
transient_error::~transient_error() = default;

constraint_violation::constraint_violation(const std::string& message, std::string native_code,
                                           std::string backend)
    : error(error_category::constraint, message, std::move(native_code), std::move(backend)) {}
constraint_violation::~constraint_violation() = default;

migration_error::migration_error(const std::string& message, std::string native_code,
                                 std::string backend)
    : error(error_category::migration, message, std::move(native_code), std::move(backend)) {}
migration_error::~migration_error() = default;

validation_error::validation_error(std::string field, const std::string& message)
    : error(error_category::validation, message), field_(std::move(field)) {}
validation_error::~validation_error() = default;

timeout_error::timeout_error(const std::string& message)
    : error(error_category::timeout, message) {}
timeout_error::timeout_error(const std::string& message, std::string native_code,
                             std::string backend)
    : error(error_category::timeout, message, std::move(native_code), std::move(backend)) {}
timeout_error::~timeout_error() = default;

pool_timeout::pool_timeout(const std::string& message) : timeout_error(message) {}
pool_timeout::~pool_timeout() = default;

pool_reentry::pool_reentry(const std::string& message) : config_error(message) {}
pool_reentry::~pool_reentry() = default;

conflict::conflict(const std::string& message) : error(error_category::conflict, message) {}
conflict::~conflict() = default;

commit_unknown::commit_unknown(const std::string& message, std::string native_code,
                               std::string backend)
    : error(error_category::commit_unknown, message, std::move(native_code), std::move(backend)) {}
commit_unknown::~commit_unknown() = default;

}  // namespace evstore
