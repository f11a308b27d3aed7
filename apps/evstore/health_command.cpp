// `evstore health`: the database health report, as `GET /api/health/db` gives it.

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "health_probe.hpp"

namespace evstore::cli {
namespace {

exit_code health(const context& ctx, const health_flags& flags) {
  database_probe probe(ctx, flags);
  const auto report = probe.checker().check();
  std::cout << report.to_json().dump(2) << std::endl;
  switch (report.status) {
    case health_status::up:
      return exit_code::ok;
    case health_status::degraded:
      return exit_code::degraded;
    case health_status::down:
      break;
  }
  return exit_code::down;
}

}  // namespace

void add_health_command(CLI::App& app, command_action& chosen) {
  auto flags = std::make_shared<health_flags>();
  auto* command = app.add_subcommand(
      "health",
      "Check the database as GET /api/health/db does and print the JSON report (exit 0 up, "
      "10 degraded, 11 down)");
  add_health_flags(*command, *flags, false);
  command->callback(
      [&chosen, flags] { chosen = [flags](const context& ctx) { return health(ctx, *flags); }; });
}

}  // namespace evstore::cli
