#include "statement_cache.hpp"

#include <utility>

namespace evstore::detail {

prepared_statement* statement_cache::find_or_add(const std::string& key) {
  forgotten_.clear();
  if (capacity_ == 0) {
    return nullptr;
  }
  if (const auto found = index_.find(key); found != index_.end()) {
    ++counters_.hits;
    entries_.splice(entries_.begin(), entries_, found->second);
    return found->second->statement.get();
  }
  ++counters_.misses;
  if (entries_.size() >= capacity_) {
    ++counters_.evictions;
    index_.erase(entries_.back().key);
    entries_.pop_back();
  }
  entries_.push_front({key, std::make_unique<prepared_statement>()});
  index_.emplace(entries_.front().key, entries_.begin());
  return entries_.front().statement.get();
}

void statement_cache::forget(const std::string& key) noexcept {
  const auto found = index_.find(key);
  if (found == index_.end()) {
    return;
  }
  ++counters_.failures;
  const auto position = found->second;
  index_.erase(found);
  try {
    forgotten_.push_back(std::move(position->statement));
  } catch (...) {
    // No memory to defer it: destroy it now (its destructor swallows what the server says).
    position->statement.reset();
  }
  entries_.erase(position);
}

void statement_cache::clear() noexcept {
  index_.clear();
  entries_.clear();
  forgotten_.clear();
}

statement_cache_metrics statement_cache::metrics() const noexcept {
  auto figures = counters_;
  figures.size = entries_.size();
  figures.capacity = capacity_;
  return figures;
}

}  // namespace evstore::detail
