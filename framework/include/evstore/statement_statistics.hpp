#pragma once

/// @file
/// The statements that took the database the most time, as the database itself tracks them
/// (PostgreSQL: the pg_stat_statements extension). A backend answers through
/// backend::top_statements(); `evstore stats` prints the answer. See docs/operations.md.

#include <cstdint>
#include <string>
#include <vector>

namespace evstore {

/// Whether a database can say which statements cost it the most time.
enum class statement_statistics_status : std::uint8_t {
  available,      ///< the statistics are read; `statements` holds them
  not_enabled,    ///< the database could, but its tracking is off: `advice` says how to enable
  not_supported,  ///< the backend tracks no statements (SQLite): `advice` says what to use
};

/// One normalised statement, as the database counts it since its statistics were last reset.
struct statement_statistic {
  std::string query;        ///< its text, constants replaced by placeholders ($1, ...)
  std::uint64_t calls = 0;  ///< times it ran
  double total_ms = 0;      ///< execution time, all calls together, in milliseconds
  double mean_ms = 0;       ///< execution time per call, in milliseconds
  std::uint64_t rows = 0;   ///< rows returned or affected, all calls together
};

/// What backend::top_statements() found.
struct statement_statistics {
  statement_statistics_status status = statement_statistics_status::not_supported;
  /// Where the figures come from ("pg_stat_statements"); empty when not available.
  std::string source;
  /// For not_enabled: the exact steps, SQL and settings included, that enable the statistics;
  /// for not_supported: why, and what to use instead. Empty when available.
  std::string advice;
  /// The statements with the largest total execution time, largest first.
  std::vector<statement_statistic> statements;
};

}  // namespace evstore
