// The plugin entry point and the backend's identity.

#include <evstore/plugin.hpp>

#include "backend.hpp"

namespace evstore::postgresql {

std::string postgresql_backend::name() const {
  return "postgresql";
}

std::vector<std::string> postgresql_backend::schemes() const {
  return {"postgresql", "postgres"};
}

const dialect* postgresql_backend::sql_dialect() const {
  return &dialect_;
}

std::vector<migration> postgresql_backend::migrations() const {
  return parse_migrations(plugin_migration_files(), "built-in migrations/postgresql");
}

}  // namespace evstore::postgresql

EVSTORE_PLUGIN(evstore::postgresql::postgresql_backend, "postgresql", EVSTORE_VERSION_STRING)
