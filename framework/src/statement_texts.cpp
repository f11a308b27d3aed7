#include "evstore/detail/statement_texts.hpp"

#include <mutex>
#include <utility>

namespace evstore::detail {

const std::string* statement_texts::find(std::string_view shape) const {
  const std::shared_lock lock(mutex_);
  const auto found = texts_.find(shape);
  return found == texts_.end() ? nullptr : &found->second;
}

const std::string& statement_texts::add(std::string_view shape, std::string text) {
  const std::unique_lock lock(mutex_);
  // Elements of an unordered_map keep their addresses when it rehashes.
  return texts_.try_emplace(std::string(shape), std::move(text)).first->second;
}

}  // namespace evstore::detail
