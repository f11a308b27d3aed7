#pragma once

/// @file
/// The native statements' conformance suite (evstore/native_statements.hpp): what a backend
/// that runs the core's statements on its native handle must do. Instantiate it with
/// INSTANTIATE_TEST_SUITE_P(<backend>, native_statement_conformance, ...); on a backend
/// without native statements every test is reported as skipped ("not applicable").

#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include <evstore/connection.hpp>
#include <evstore/native_statements.hpp>

#include "evstore/conformance/backend_context.hpp"

namespace evstore::conformance {

/// The fixture: a connection to a fresh database with an empty table
/// `probe (k BIGINT PRIMARY KEY, t TEXT)`, and the backend's native statements.
class native_statement_conformance : public ::testing::TestWithParam<backend_context> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<database_handle> database_;
  std::optional<connection> connection_;
  const native_statements* native_ = nullptr;
};

}  // namespace evstore::conformance
