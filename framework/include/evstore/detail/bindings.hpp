#pragma once

// Internal: values bound to a dynamically built statement. SOCI reads a bound value when the
// statement executes, so each lives here, at a stable address, until then.

#include <optional>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "evstore/native_statements.hpp"

namespace evstore::detail {

class bindings {
 public:
  /// Each returns the placeholder (":p3") to put in the SQL.
  std::string text(std::string value);
  std::string optional_text(std::optional<std::string> value);
  std::string integer(long long value);
  std::string optional_integer(std::optional<long long> value);
  std::string real(double value);
  std::string optional_real(std::optional<double> value);

  /// The placeholder of the value added `index`-th (from 0), for a statement text built
  /// before its values are added.
  [[nodiscard]] static std::string placeholder(std::size_t index);

  /// For the query log: the values (NULL for a null, text quoted) or, without `values`, only
  /// how many there are.
  [[nodiscard]] std::string describe(bool values) const;

  /// Adds every value to `statement` (before it is prepared). The statement reads them from
  /// this object each time it executes.
  void bind_to(soci::statement& statement);

  /// The values as a native statement takes them, pointing into this object.
  [[nodiscard]] std::vector<native_value> native_values() const;

  /// How many values there are.
  [[nodiscard]] std::size_t size() const noexcept { return values_.size(); }

  /// Appends one letter per value, its type: two bindings with the same signature bind
  /// the same types in the same order.
  void append_signature(std::string& out) const;

  /// Takes the values of `other`, which has this object's signature, in place: a statement
  /// bound to this object then executes with them.
  void assign(const bindings& other);

 private:
  struct binding {
    enum class kind { text, integer, real } type;
    soci::indicator indicator;
    std::string text;
    long long integer = 0;
    double real = 0;
  };

  // Room for the values of most statements (an insert's columns), made at the first: growing
  // one at a time would move every value four times.
  static constexpr std::size_t typical_count = 12;

  std::string add(binding::kind type, bool null);

  // SOCI reads each value from here when the statement executes: bind_to() must come after
  // the last value is added, so that none moves.
  std::vector<binding> values_;
};

}  // namespace evstore::detail
