// The evstore command line.

#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <evstore/error.hpp>
#include <evstore/plugin.hpp>
#include <evstore/version.hpp>

#include "commands.hpp"

namespace {

using evstore::cli::exit_code;

exit_code exit_code_for(const evstore::error& e) {
  switch (e.category()) {
    case evstore::error_category::config:
      return exit_code::config;
    case evstore::error_category::plugin:
      return exit_code::plugin;
    case evstore::error_category::connection:
      return exit_code::connection;
    case evstore::error_category::migration:
      return exit_code::migration;
    case evstore::error_category::commit_unknown:
      return exit_code::commit_unknown;
    default:
      return exit_code::database;
  }
}

// Runs a command, turning an error into one line on stderr and its exit code.
template <typename Command>
int run(Command command) {
  try {
    return static_cast<int>(command());
  } catch (const evstore::error& e) {
    std::cerr << "evstore: " << to_string(e.category()) << " error: " << e.what() << '\n';
    return static_cast<int>(exit_code_for(e));
  } catch (const std::exception& e) {
    std::cerr << "evstore: error: " << e.what() << '\n';
    return static_cast<int>(exit_code::failure);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr, so that a command's output on stdout stays clean for scripts.
  spdlog::set_default_logger(spdlog::stderr_color_mt("evstore"));

  CLI::App app{"evstore: event and media storage on PostgreSQL, SQLite and plugin backends.",
               "evstore"};
  app.footer(std::string("Configuration: DATABASE_URL and EVSTORE_* from the environment, .env and "
                         ".env.local\n(the environment wins; flags win over all). No URL: "
                         "sqlite://evstore.db in the working directory.\n") +
             evstore::cli::exit_code_help);
  app.set_version_flag("--version", std::string("evstore ") + EVSTORE_VERSION_STRING +
                                        " (plugin ABI " +
                                        std::to_string(EVSTORE_PLUGIN_ABI_VERSION) + ", " +
                                        EVSTORE_PLUGIN_ABI_TAG + ")");
  app.require_subcommand(1);

  evstore::cli::global_options flags;
  app.add_option("--database-url", flags.database_url,
                 "Database URL; overrides DATABASE_URL (e.g. postgresql://user@host/db, "
                 "sqlite:///path/file.db, sqlite::memory:)");
  app.add_option("--log-level", flags.log_level,
                 "trace, debug, info, warn (default), error, critical or off; overrides "
                 "EVSTORE_LOG_LEVEL");
  app.add_flag("--log-queries", flags.log_queries,
               "Log every statement with its duration and row count (bound values only with "
               "EVSTORE_LOG_QUERY_PARAMETERS=true); sets the log level to debug unless given");
  app.add_option("--connect-timeout", flags.connect_timeout,
                 "Seconds a connection attempt may take (default 10); overrides "
                 "EVSTORE_CONNECT_TIMEOUT")
      ->check(CLI::PositiveNumber);

  auto* plugins = app.add_subcommand("plugins", "List the backend plugins evstore can load");
  auto* doctor = plugins->add_subcommand(
      "doctor",
      "Show the plugin search path and every file tried, with why it was accepted or "
      "refused (exit 4 if any was refused)");
  auto* ping = app.add_subcommand(
      "ping", "Connect to the database and print the backend, server version and round-trip time");

  evstore::cli::migrate_request migration;
  auto* migrate = app.add_subcommand(
      "migrate",
      "Apply, revert and inspect schema migrations: evstore's built-in ones (scope evstore), "
      "then the application's from --migrations-dir (scope app). A VERSION is N (the app "
      "scope when a migrations folder is set, else evstore) or SCOPE:N.");
  migrate->require_subcommand(1);
  // Its options may also follow its subcommand: `migrate up --migrations-dir DIR`.
  migrate->fallthrough();
  migrate->add_option("--migrations-dir", flags.migrations_dir,
                      "The application's migrations: DIR/<backend>/ if it exists, else DIR "
                      "(overrides EVSTORE_MIGRATIONS_DIR)");
  migrate
      ->add_option("--lock-timeout", flags.lock_timeout,
                   "Seconds to wait for another migrator (default 10; overrides "
                   "EVSTORE_MIGRATION_LOCK_TIMEOUT)")
      ->check(CLI::PositiveNumber);
  migrate->add_option("--direct-url", flags.direct_url,
                      "The database server's own URL, bypassing a pooler: migrations run there "
                      "(overrides EVSTORE_DIRECT_URL; needed with pooler=transaction)");
  using action = evstore::cli::migrate_request::action;
  const auto on = [&](CLI::App* command, action what) {
    command->callback([&migration, what] { migration.what = what; });
    return command;
  };
  auto* up = on(migrate->add_subcommand("up", "Apply pending migrations in order"), action::up);
  up->add_option("--to", migration.to, "Stop after this VERSION");
  up->add_flag("--dry-run", migration.dry_run, "Print the SQL it would run; change nothing");
  auto* down = on(migrate->add_subcommand(
                      "down", "Revert applied migrations, newest first (default: the last one)"),
                  action::down);
  auto* steps =
      down->add_option("--steps", migration.steps, "Revert this many")->check(CLI::PositiveNumber);
  down->add_option("--to", migration.to, "Revert everything after this VERSION (0: all)")
      ->excludes(steps);
  down->add_flag("--dry-run", migration.dry_run, "Print the SQL it would run; change nothing");
  auto* status = on(
      migrate->add_subcommand("status", "Every migration: applied, pending, modified or missing"),
      action::status);
  status->add_flag("--exit-code", migration.exit_code,
                   "Exit 0 when up to date, 8 when migrations are pending, 9 when one is "
                   "modified or missing");
  on(migrate->add_subcommand("redo", "Revert and re-apply the last applied migration"),
     action::redo);
  on(migrate->add_subcommand("create",
                             "Write an empty NNNN_NAME.up.sql/.down.sql pair in every dialect "
                             "folder of --migrations-dir (default ./migrations)"),
     action::create)
      ->add_option("NAME", migration.argument, "lower_case_name")
      ->required();
  on(migrate->add_subcommand("rehash",
                             "Accept the edited file of an applied migration: record its new "
                             "checksum (the old one is kept)"),
     action::rehash)
      ->add_option("VERSION", migration.argument, "The migration")
      ->required();

  // Commands in files of their own add themselves here (see commands.hpp).
  evstore::cli::command_action chosen;
  evstore::cli::add_seed_command(app, chosen);
  evstore::cli::add_backup_commands(app, chosen);
  evstore::cli::add_serve_command(app, chosen);
  evstore::cli::add_health_command(app, chosen);
  evstore::cli::add_stats_command(app, chosen);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(exit_code::usage);
  }

  return run([&] {
    const evstore::cli::context ctx(flags);
    if (*doctor) {
      return evstore::cli::plugins_doctor(ctx);
    }
    if (*plugins) {
      return evstore::cli::list_plugins(ctx);
    }
    if (*ping) {
      return evstore::cli::ping(ctx);
    }
    if (*migrate) {
      return evstore::cli::migrate(ctx, migration);
    }
    if (chosen) {
      return chosen(ctx);
    }
    return exit_code::usage;
  });
}
