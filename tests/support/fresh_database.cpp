#include "fresh_database.hpp"

#include <cstdint>
#include <exception>
#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

#include <evstore/connection.hpp>

#include "process.hpp"

namespace evstore::test {
namespace {

// PostgreSQL truncates identifiers to 63 bytes; "evstore_" + purpose + "_" + 16 hex digits
// stays well below that.
constexpr std::size_t max_purpose_length = 30;

bool is_valid_purpose(std::string_view purpose) {
  if (purpose.empty() || purpose.size() > max_purpose_length) {
    return false;
  }
  for (const char c : purpose) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string random_hex() {
  std::random_device device;
  const auto value = (static_cast<std::uint64_t>(device()) << 32U) | device();
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (std::size_t i = 0; i < text.size(); ++i) {
    text[i] = digits[(value >> (4U * i)) & 0xfU];
  }
  return text;
}

database_url server_url() {
  const auto text = required_env("EVSTORE_TEST_POSTGRESQL_URL");
  if (text.empty()) {
    throw std::runtime_error("EVSTORE_TEST_POSTGRESQL_URL is not set");
  }
  return parse_database_url(text);
}

}  // namespace

fresh_postgresql_database::fresh_postgresql_database(std::string_view purpose) {
  if (!is_valid_purpose(purpose)) {
    throw std::invalid_argument("fresh_postgresql_database: purpose \"" + std::string(purpose) +
                                "\" must be 1 to 30 lower-case letters, digits or '_'");
  }
  server_ = server_url();
  name_ = "evstore_" + std::string(purpose) + "_" + random_hex();
  // The name is made of [a-z0-9_] only, so it needs no quoting.
  auto admin = connection::open(default_plugins(), server_, {});
  admin.execute("CREATE DATABASE " + name_);
  url_ = server_;
  url_.database = name_;
}

fresh_postgresql_database::~fresh_postgresql_database() {
  try {
    auto admin = connection::open(default_plugins(), server_, {});
    admin.execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "could not drop the test database " << name_ << ": " << e.what();
  }
}

}  // namespace evstore::test
