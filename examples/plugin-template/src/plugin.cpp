// The plugin's entry point and identity. EVSTORE_PLUGIN exports the one C function the loader
// looks for, with the ABI record filled in from the SDK headers this file is compiled with.

#include <evstore/plugin.hpp>

#include "backend.hpp"

namespace templatedb {

std::string templatedb_backend::name() const {
  return std::string(backend_name);
}

std::vector<std::string> templatedb_backend::schemes() const {
  return {"templatedb"};
}

const evstore::dialect* templatedb_backend::sql_dialect() const {
  return &dialect_;
}

std::vector<evstore::migration> templatedb_backend::migrations() const {
  // The files named in evstore_add_plugin(... MIGRATIONS ...), embedded in this library.
  return evstore::parse_migrations(evstore::plugin_migration_files(), "templatedb migrations");
}

}  // namespace templatedb

EVSTORE_PLUGIN(templatedb::templatedb_backend, "templatedb", TEMPLATEDB_VERSION)
