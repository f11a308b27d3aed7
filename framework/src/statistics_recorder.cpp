#include "evstore/detail/statistics_recorder.hpp"

#include <array>
#include <utility>

namespace evstore::detail {

std::string operation_name(std::string_view function_name) {
  // "<return type> <qualified name>(<parameters>)": the qualified name is the last word
  // before the parameters.
  auto name = function_name.substr(0, function_name.find('('));
  if (const auto space = name.rfind(' '); space != std::string_view::npos) {
    name.remove_prefix(space + 1);
  }
  const auto last = name.rfind("::");
  const auto function = last == std::string_view::npos ? name : name.substr(last + 2);
  if (last == std::string_view::npos) {
    return std::string(function);
  }
  auto owner = name.substr(0, last);
  if (const auto scope = owner.rfind("::"); scope != std::string_view::npos) {
    owner.remove_prefix(scope + 2);
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 2> store_names = {
      std::pair{"event_repository", "events"}, std::pair{"media_repository", "media"}};
  for (const auto& [type, shown] : store_names) {
    if (owner == type) {
      owner = shown;
    }
  }
  // A free function in an unnamed namespace is named by itself.
  if (owner.starts_with('{') || owner == "evstore") {
    return std::string(function);
  }
  return std::string(owner) + "." + std::string(function);
}

void statistics_recorder::record(const char* function_name,
                                 std::chrono::steady_clock::duration took, bool failed) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took);
  std::lock_guard lock(mutex_);
  auto& entry = by_function_[function_name];
  if (entry == nullptr) {
    auto name = operation_name(function_name);
    auto found = operations_.find(name);
    if (found == operations_.end()) {
      found = operations_.emplace(name, operation_statistics{}).first;
      found->second.operation = std::move(name);
    }
    entry = &found->second;
  }
  ++entry->calls;
  entry->errors += failed ? 1 : 0;
  entry->duration_total += micros;
  const auto& bounds = operation_statistics::duration_buckets;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    entry->duration_histogram[i] += micros <= bounds[i] ? 1 : 0;
  }
}

store_statistics statistics_recorder::snapshot() const {
  store_statistics out;
  {
    std::lock_guard lock(mutex_);
    out.operations.reserve(operations_.size());
    for (const auto& [name, entry] : operations_) {
      out.operations.push_back(entry);
    }
  }
  out.transactions_committed = committed_.load(std::memory_order_relaxed);
  out.transactions_failed = failed_.load(std::memory_order_relaxed);
  out.transaction_retries = retries_.load(std::memory_order_relaxed);
  out.commit_unknown = unknown_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace evstore::detail
