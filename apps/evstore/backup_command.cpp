// `evstore backup` and `evstore restore` (docs/backup.md).

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <soci/soci.h>

#include <evstore/backup.hpp>
#include <evstore/error.hpp>

#include "commands.hpp"

namespace fs = std::filesystem;

namespace evstore::cli {
namespace {

using clock = std::chrono::steady_clock;

struct backup_request {
  std::string output;
  std::string input;
  bool force = false;
};

double seconds_since(clock::time_point start) {
  return std::chrono::duration<double>(clock::now() - start).count();
}

std::string size_text(std::uintmax_t bytes) {
  if (bytes >= 1024U * 1024) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  if (bytes >= 1024U) {
    return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024.0);
  }
  return fmt::format("{} bytes", bytes);
}

// The PostgreSQL plugin reads EVSTORE_PG_BINDIR from the process environment; a value from
// .env or .env.local reaches it through here.
void export_tool_settings(const context& ctx) {
  if (const auto bindir = ctx.config().get("EVSTORE_PG_BINDIR")) {
    ::setenv("EVSTORE_PG_BINDIR", bindir->c_str(), 1);
  }
}

long long count_rows(connection& conn, const std::string& table) {
  long long rows = 0;
  try {
    conn.session() << "SELECT COUNT(*) FROM " + table, soci::into(rows);
  } catch (...) {
    conn.backend().rethrow_translated(std::current_exception(), "counting rows in " + table);
  }
  return rows;
}

exit_code run_backup(const context& ctx, const backup_request& request) {
  export_tool_settings(ctx);
  const auto url = ctx.config().database();
  const auto plugins = ctx.discover_plugins();
  const auto& plugin = plugins.plugin_for(url.scheme);
  const auto start = clock::now();
  backup_to_file(*plugin.backend, url, request.output);
  std::cout << fmt::format("backed up {} to {} ({}) in {:.2f} s\n", url.redacted(), request.output,
                           size_text(fs::file_size(request.output)), seconds_since(start));
  return exit_code::ok;
}

exit_code run_restore(const context& ctx, const backup_request& request) {
  export_tool_settings(ctx);
  const auto url = ctx.config().database();
  std::error_code failure;
  if (!fs::is_regular_file(request.input, failure)) {
    throw config_error(fmt::format("cannot restore from {}: there is no such file", request.input));
  }
  const auto plugins = ctx.discover_plugins();
  const auto& plugin = plugins.plugin_for(url.scheme);
  {
    // Closed before the restore: the backend replaces what this connection would read.
    auto conn = ctx.connect(plugins);
    if (database_holds_data(conn) && !request.force) {
      std::cerr << fmt::format(
          "evstore: refusing to restore into {}: it holds events or media, which the restore "
          "would replace; pass --force to replace them\n",
          url.redacted());
      return exit_code::refused;
    }
  }
  const auto start = clock::now();
  plugin.backend->restore(url, request.input);
  const auto took = seconds_since(start);
  auto conn = ctx.connect(plugins);
  std::cout << fmt::format("restored {} into {} in {:.2f} s: {} events, {} media\n", request.input,
                           url.redacted(), took, count_rows(conn, "events"),
                           count_rows(conn, "media"));
  return exit_code::ok;
}

}  // namespace

void add_backup_commands(CLI::App& app, command_action& chosen) {
  auto request = std::make_shared<backup_request>();
  auto* backup = app.add_subcommand(
      "backup",
      "Write a consistent backup of the database to a file while it stays in use: PostgreSQL "
      "through pg_dump -Fc (schema and data of this database; not roles), SQLite through its "
      "online backup API. The file appears only when complete (docs/backup.md).");
  backup->add_option("--output,-o", request->output, "The backup file to write (replaced)")
      ->required();
  backup->callback([&chosen, request] {
    chosen = [request](const context& ctx) { return run_backup(ctx, *request); };
  });

  auto* restore = app.add_subcommand(
      "restore",
      "Replace the database's contents with a backup made by `evstore backup` of the same "
      "backend. Refuses (exit 12) when the database holds events or media, unless --force.");
  restore->add_option("--input,-i", request->input, "The backup file to read")->required();
  restore->add_flag("--force", request->force, "Replace a database that holds events or media");
  restore->callback([&chosen, request] {
    chosen = [request](const context& ctx) { return run_restore(ctx, *request); };
  });
}

}  // namespace evstore::cli
