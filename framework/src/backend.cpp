#include "evstore/backend.hpp"

#include "evstore/dialect.hpp"

namespace evstore {

// Out of line, so that the vtable and type_info of backend live once, in libevstore.
backend::~backend() = default;
dialect::~dialect() = default;

void backend::close_now(soci::session& /*session*/) const noexcept {}

bool backend::copy_rows(soci::session& /*session*/, std::string_view /*table*/,
                        std::span<const bulk_column> /*columns*/,
                        std::span<const bulk_value> /*values*/) const {
  return false;
}

}  // namespace evstore
