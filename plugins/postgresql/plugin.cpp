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

}  // namespace evstore::postgresql

EVSTORE_PLUGIN(evstore::postgresql::postgresql_backend, "postgresql", EVSTORE_VERSION_STRING)
