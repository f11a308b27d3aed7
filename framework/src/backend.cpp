#include "evstore/backend.hpp"

#include "evstore/dialect.hpp"

namespace evstore {

// Out of line, so that the vtable and type_info of backend live once, in libevstore.
backend::~backend() = default;
dialect::~dialect() = default;

void backend::interrupt(soci::session& /*session*/) const noexcept {}

}  // namespace evstore
