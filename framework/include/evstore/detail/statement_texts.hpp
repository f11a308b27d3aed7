#pragma once

// Internal: the texts of a store's statements, each built once. Building a statement's SQL
// with fmt and the dialect costs more client time than a prepared re-execution of it; its
// text depends only on the dialect and the statement's shape (what it does, and which
// optional clauses it has), so it is built on first use and then looked up by shape.

#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "evstore/export.hpp"

namespace evstore::detail {

class EVSTORE_API statement_texts {
 public:
  statement_texts() = default;
  statement_texts(const statement_texts&) = delete;
  statement_texts& operator=(const statement_texts&) = delete;

  /// The text built for `shape`, or nullptr when there is none yet. Thread-safe.
  [[nodiscard]] const std::string* find(std::string_view shape) const;

  /// Keeps `text` for `shape` (or the text another thread kept first) and returns it: it stays
  /// at its address as long as this object. Thread-safe.
  const std::string& add(std::string_view shape, std::string text);

 private:
  struct shape_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view shape) const noexcept {
      return std::hash<std::string_view>{}(shape);
    }
  };

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::string, shape_hash, std::equal_to<>> texts_;
};

}  // namespace evstore::detail
