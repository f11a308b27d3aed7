#pragma once

// What a backend supplies to run the conformance suites against it: a way to make fresh,
// empty databases. A suite is instantiated once per backend with one of these.

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace evstore::conformance {

/// A fresh, empty database; destroying the handle removes it.
class database_handle {
 public:
  virtual ~database_handle() = default;
  /// The database's URL.
  [[nodiscard]] virtual std::string url() const = 0;
};

struct backend_context {
  /// The backend's name, used in test names ("sqlite").
  std::string name;
  /// Creates a new, empty database.
  std::function<std::unique_ptr<database_handle>()> fresh_database;

  friend std::ostream& operator<<(std::ostream& out, const backend_context& context) {
    return out << context.name;
  }
};

}  // namespace evstore::conformance
