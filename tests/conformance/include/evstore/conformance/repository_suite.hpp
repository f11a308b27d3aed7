#pragma once

/// @file
/// The repositories' conformance suite: what must hold on every backend, written only against
/// the public API. Instantiate it with INSTANTIATE_TEST_SUITE_P(<backend>,
/// repository_conformance, ...).

#include <memory>

#include <gtest/gtest.h>

#include <evstore/store.hpp>

#include "evstore/conformance/backend_context.hpp"

namespace evstore::conformance {

/// The fixture of the repositories' tests: each test gets a fresh, migrated database and a
/// store on it, opened with the context's plugin path.
class repository_conformance : public ::testing::TestWithParam<backend_context> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<database_handle> database_;
  std::unique_ptr<evstore::store> store_;
};

}  // namespace evstore::conformance
