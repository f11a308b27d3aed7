#include "evstore/detail/connection_source.hpp"

#include "evstore/error.hpp"

namespace evstore::detail {

namespace {

// Runs `work`, counting it under `caller`'s operation, failed when it throws.
void counted(statistics_recorder& statistics, const std::source_location& caller,
             const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  try {
    work();
  } catch (...) {
    statistics.record(caller.function_name(), std::chrono::steady_clock::now() - start, true);
    throw;
  }
  statistics.record(caller.function_name(), std::chrono::steady_clock::now() - start, false);
}

}  // namespace

connection_source::~connection_source() = default;

void connection_source::run(const std::function<void(connection&)>& work,
                            std::source_location caller) {
  counted(statistics_, caller, [&] { run_on_connection(work); });
}

void connection_source::read(const std::function<void(connection&)>& work,
                             std::source_location caller) {
  counted(statistics_, caller, [&] { run_on_connection_for_read(work); });
}

void connection_source::run_on_connection_for_read(const std::function<void(connection&)>& work) {
  run_on_connection(work);
}

void connection_source::run_atomically(const std::function<void(connection&)>& work,
                                       std::source_location caller) {
  counted(statistics_, caller, [&] { run_on_connection_atomically(work); });
}

void translating(connection& conn, const std::function<void()>& work) {
  try {
    work();
  } catch (const error&) {
    throw;
  } catch (...) {
    conn.backend().rethrow_translated(std::current_exception(), "running a statement");
  }
}

}  // namespace evstore::detail
