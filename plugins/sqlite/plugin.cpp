// The plugin entry point and the backend's identity.

#include <evstore/plugin.hpp>

#include "backend.hpp"

namespace evstore::sqlite {

std::string sqlite_backend::name() const {
  return "sqlite";
}

std::vector<std::string> sqlite_backend::schemes() const {
  return {"sqlite"};
}

const dialect* sqlite_backend::sql_dialect() const {
  return &dialect_;
}

std::vector<migration> sqlite_backend::migrations() const {
  return parse_migrations(plugin_migration_files(), "built-in migrations/sqlite");
}

}  // namespace evstore::sqlite

EVSTORE_PLUGIN(evstore::sqlite::sqlite_backend, "sqlite", EVSTORE_VERSION_STRING)
