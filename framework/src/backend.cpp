#include "evstore/backend.hpp"

namespace evstore {

// Out of line, so that the vtable and type_info of backend live once, in libevstore.
backend::~backend() = default;

}  // namespace evstore
