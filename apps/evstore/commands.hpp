#pragma once

// The commands of the evstore command line, each returning its exit code.

#include <functional>

#include <CLI/CLI.hpp>

#include "context.hpp"
#include "exit_codes.hpp"

namespace evstore::cli {

/// What a command does once the command line is parsed and the configuration loaded.
using command_action = std::function<exit_code(const context&)>;

// Commands in files of their own register themselves: each add_*_command adds its CLI11
// subcommand (with --help text and options) and, when it is chosen, sets `chosen`.

/// `evstore serve`: the health check, liveness and metrics over HTTP (serve_command.cpp).
void add_serve_command(CLI::App& app, command_action& chosen);

/// `evstore health`: the database health report as JSON, exit 0/10/11 (health_command.cpp).
void add_health_command(CLI::App& app, command_action& chosen);

/// `evstore seed`: deterministic development data (seed_command.cpp).
void add_seed_command(CLI::App& app, command_action& chosen);

/// `evstore backup` and `evstore restore` (backup_command.cpp).
void add_backup_commands(CLI::App& app, command_action& chosen);

/// `evstore stats`: the statements that took the database the most time (stats_command.cpp).
void add_stats_command(CLI::App& app, command_action& chosen);

/// `evstore plugins`: the loaded plugins, one line each.
exit_code list_plugins(const context& ctx);

/// `evstore plugins doctor`: the search path and every file tried, with the verdict.
exit_code plugins_doctor(const context& ctx);

/// `evstore ping`: connects and measures one round trip.
exit_code ping(const context& ctx);

/// What `evstore migrate ...` was asked to do.
struct migrate_request {
  enum class action { up, down, status, redo, create, rehash } what = action::status;
  std::string to;          ///< --to, for up and down
  int steps = 0;           ///< --steps, for down
  bool dry_run = false;    ///< --dry-run, for up and down
  bool exit_code = false;  ///< --exit-code, for status
  std::string argument;    ///< NAME for create, VERSION for rehash
};

/// `evstore migrate ...`.
exit_code migrate(const context& ctx, const migrate_request& request);

}  // namespace evstore::cli
