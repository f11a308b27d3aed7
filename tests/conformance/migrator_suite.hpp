#pragma once

// The migration engine's conformance suite: what must hold on every SQL backend.
// Instantiate it with INSTANTIATE_TEST_SUITE_P(<backend>, migrator_conformance, ...).

#include <gtest/gtest.h>

#include "backend_context.hpp"

namespace evstore::conformance {

class migrator_conformance : public ::testing::TestWithParam<backend_context> {};

}  // namespace evstore::conformance
