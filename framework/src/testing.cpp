#include "evstore/testing.hpp"

#include <utility>

namespace evstore::testing {

std::unique_ptr<store> memory_store(std::vector<migration> app, store_options options) {
  auto memory = store::open(parse_database_url("sqlite::memory:"), std::move(options));
  (void)memory->migrate(std::move(app));
  return memory;
}

}  // namespace evstore::testing
