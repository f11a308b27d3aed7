#pragma once

// A database of one's own on the throw-away PostgreSQL server, for tests that need an empty
// schema (migrations, schema comparisons, planner tests) without disturbing the others.

#include <string>
#include <string_view>

#include <evstore/config.hpp>

namespace evstore::test {

/// A new, empty database on the test server (EVSTORE_TEST_POSTGRESQL_URL), named
/// `evstore_<purpose>_<random hex>`, dropped with this object, together with any connection
/// still open to it (DROP DATABASE ... WITH (FORCE)).
class fresh_postgresql_database {
 public:
  /// @param purpose part of the name, so that a leftover database says who made it:
  ///        1 to 30 lower-case letters, digits or '_'.
  /// @throws std::invalid_argument for another purpose; std::runtime_error when the server's
  ///         URL is not set; evstore::error when the server refuses the connection or the
  ///         CREATE DATABASE.
  explicit fresh_postgresql_database(std::string_view purpose);
  fresh_postgresql_database(const fresh_postgresql_database&) = delete;
  fresh_postgresql_database& operator=(const fresh_postgresql_database&) = delete;
  /// Drops the database; a failure to drop it fails the current test, never throws.
  ~fresh_postgresql_database();

  /// The database's name.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The test server's URL, naming this database.
  [[nodiscard]] const database_url& url() const noexcept { return url_; }

 private:
  database_url server_;
  std::string name_;
  database_url url_;
};

}  // namespace evstore::test
