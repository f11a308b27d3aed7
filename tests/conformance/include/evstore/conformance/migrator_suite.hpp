#pragma once

/// @file
/// The migration engine's conformance suite: what must hold on every SQL backend.
/// Instantiate it with INSTANTIATE_TEST_SUITE_P(<backend>, migrator_conformance, ...).

#include <gtest/gtest.h>

#include "evstore/conformance/backend_context.hpp"

namespace evstore::conformance {

/// The fixture of the migration engine's tests; its parameter is the backend under test.
class migrator_conformance : public ::testing::TestWithParam<backend_context> {};

}  // namespace evstore::conformance
