#pragma once

// Asserting the exact evstore error a call throws: its class (not a subclass or a base, which
// a plain EXPECT_THROW accepts) and its category, since callers branch on both.

#include <string>
#include <typeinfo>

#include <gtest/gtest.h>

#include <evstore/error.hpp>

namespace evstore::test {

// Runs `call`, which must throw exactly `Expected` with `category`.
// @returns the error's message; empty when `call` threw nothing or something else.
template <typename Expected, typename Call>
std::string expect_exact_error(Call&& call, error_category category) {
  try {
    call();
    ADD_FAILURE() << "no error thrown, expected " << typeid(Expected).name();
  } catch (const error& e) {
    EXPECT_EQ(typeid(e), typeid(Expected))
        << "thrown: " << typeid(e).name() << " (" << to_string(e.category()) << "): " << e.what();
    EXPECT_EQ(e.category(), category)
        << "category " << to_string(e.category()) << ", expected " << to_string(category);
    if (typeid(e) == typeid(Expected)) {
      return e.what();
    }
  }
  return {};
}

}  // namespace evstore::test
