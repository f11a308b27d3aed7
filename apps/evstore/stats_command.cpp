// `evstore stats`: the statements that took the database the most time, from the database's
// own statistics (PostgreSQL: pg_stat_statements). It reads them and never enables them.

#include <cstddef>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <evstore/connection.hpp>
#include <evstore/redact.hpp>
#include <evstore/statement_statistics.hpp>

#include "commands.hpp"

namespace evstore::cli {
namespace {

constexpr std::size_t default_top = 10;
constexpr std::size_t most_top = 1000;
// A statement's text in the table: one line, cut here.
constexpr std::size_t shown_query_length = 100;

struct stats_request {
  std::size_t top = default_top;
  bool json = false;
};

const char* to_string(statement_statistics_status status) {
  switch (status) {
    case statement_statistics_status::available:
      return "available";
    case statement_statistics_status::not_enabled:
      return "not_enabled";
    case statement_statistics_status::not_supported:
      break;
  }
  return "not_supported";
}

// The statement on one line: runs of white space as one space, cut to the table's width.
std::string one_line(const std::string& query) {
  std::string line;
  for (const char c : query) {
    const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (!space) {
      line += c;
    } else if (!line.empty() && line.back() != ' ') {
      line += ' ';
    }
  }
  if (line.size() > shown_query_length) {
    line.resize(shown_query_length - 3);
    line += "...";
  }
  return line;
}

nlohmann::json to_json(const statement_statistics& stats) {
  auto statements = nlohmann::json::array();
  for (const auto& s : stats.statements) {
    statements.push_back({{"query", s.query},
                          {"calls", s.calls},
                          {"total_ms", s.total_ms},
                          {"mean_ms", s.mean_ms},
                          {"rows", s.rows}});
  }
  return {{"status", to_string(stats.status)},
          {"source", stats.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(stats.source)},
          {"advice", stats.advice.empty() ? nlohmann::json(nullptr) : nlohmann::json(stats.advice)},
          {"statements", statements}};
}

void print_table(const statement_statistics& stats, const std::string& where) {
  std::cout << fmt::format("top {} statement(s) by total execution time on {} ({}):\n",
                           stats.statements.size(), where, stats.source)
            << fmt::format("{:>10} {:>12} {:>10} {:>10}  {}\n", "calls", "total ms", "mean ms",
                           "rows", "query");
  for (const auto& s : stats.statements) {
    std::cout << fmt::format("{:>10} {:>12.3f} {:>10.3f} {:>10}  {}\n", s.calls, s.total_ms,
                             s.mean_ms, s.rows, one_line(s.query));
  }
}

exit_code stats(const context& ctx, const stats_request& request) {
  const auto url = ctx.config().database();
  const auto registry = ctx.discover_plugins();
  auto connection = ctx.connect(registry);
  auto found = connection.backend().top_statements(connection.session(), request.top);
  for (auto& s : found.statements) {
    s.query = redact(std::move(s.query), url.password);
  }

  if (request.json) {
    std::cout << to_json(found).dump(2) << std::endl;
  }
  switch (found.status) {
    case statement_statistics_status::available:
      if (!request.json) {
        print_table(found, url.redacted());
      }
      return exit_code::ok;
    case statement_statistics_status::not_enabled:
      if (!request.json) {
        std::cerr << "evstore: statement statistics are not enabled on " << url.redacted() << ": "
                  << found.advice << '\n';
      }
      return exit_code::stats_not_enabled;
    case statement_statistics_status::not_supported:
      break;
  }
  if (!request.json) {
    std::cout << "evstore stats does not apply to " << connection.backend_name() << ": "
              << found.advice << '\n';
  }
  return exit_code::ok;
}

}  // namespace

void add_stats_command(CLI::App& app, command_action& chosen) {
  auto request = std::make_shared<stats_request>();
  auto* command = app.add_subcommand(
      "stats",
      "The statements that took the database the most execution time, with calls, mean time "
      "and rows (PostgreSQL: pg_stat_statements, which it reads and never installs)");
  command
      ->add_option(
          "--top", request->top,
          fmt::format("How many statements (default {}, at most {})", default_top, most_top))
      ->check(CLI::Range(std::size_t{1}, most_top));
  command->add_flag("--json", request->json,
                    "Print {status, source, advice, statements: [{query, calls, total_ms, "
                    "mean_ms, rows}]} as JSON on stdout, in every case");
  command->footer(
      "Exit 0 with the statements, or with a note when the backend keeps no statistics\n"
      "(SQLite); 13 when the database could keep them but does not, with the exact steps\n"
      "that enable them (shared_preload_libraries, CREATE EXTENSION pg_stat_statements) on\n"
      "stderr. See docs/operations.md.");
  command->callback([&chosen, request] {
    chosen = [request](const context& ctx) { return stats(ctx, *request); };
  });
}

}  // namespace evstore::cli
