#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include <evstore/error.hpp>
#include <evstore/migrator.hpp>

#include "commands.hpp"

namespace fs = std::filesystem;

namespace evstore::cli {
namespace {

using action = migrate_request::action;

// The scope a bare version refers to: the application's when it has migrations.
std::string_view default_scope(const context& ctx) {
  return ctx.config().get("EVSTORE_MIGRATIONS_DIR") ? app_scope : builtin_scope;
}

void print_steps(const std::vector<migration_step>& steps, bool dry_run) {
  if (steps.empty()) {
    std::cout << "nothing to do: the schema is up to date\n";
  }
  for (const auto& step : steps) {
    if (dry_run) {
      std::cout << fmt::format("-- {} {} {}\n", step.up ? "up" : "down", step.id.to_string(),
                               step.name);
      for (const auto& statement : step.statements) {
        std::cout << statement << ";\n";
      }
    } else {
      std::cout << fmt::format("{} {} {} ({} ms)\n", step.up ? "applied" : "reverted",
                               step.id.to_string(), step.name, step.took.count());
    }
  }
}

exit_code print_status(migrator& engine, bool use_exit_code) {
  const auto report = engine.status();
  std::cout << fmt::format("{:<8} {:>7}  {:<32} {:<9} {:<28} {}\n", "SCOPE", "VERSION", "NAME",
                           "STATE", "APPLIED AT", "MS");
  for (const auto& m : report.migrations) {
    std::cout << fmt::format("{:<8} {:>7}  {:<32} {:<9} {:<28} {}\n", m.id.scope, m.id.version,
                             m.name, to_string(m.state), m.applied_at.value_or("-"),
                             m.execution_ms ? std::to_string(*m.execution_ms) : "-");
  }
  std::cout << "migration lock: " << report.lock_holder.value_or("free") << '\n';
  if (!use_exit_code) {
    return exit_code::ok;
  }
  if (report.drifted()) {
    return exit_code::drift;
  }
  return report.up_to_date() ? exit_code::ok : exit_code::pending;
}

// `migrate create NAME`: an empty up/down pair in every dialect folder, numbered after the
// highest version found in any of them.
exit_code create(const context& ctx, const std::string& name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      })) {
    throw config_error(fmt::format(
        "migration name \"{}\": use lower-case letters, digits and _ (e.g. add_event_tags)", name));
  }
  const fs::path dir = ctx.config().get("EVSTORE_MIGRATIONS_DIR").value_or("migrations");
  const auto registry = ctx.discover_plugins();
  std::vector<fs::path> folders;
  for (const auto& plugin : registry.plugins()) {
    if (fs::is_directory(dir / plugin.info.name)) {
      folders.push_back(dir / plugin.info.name);
    }
  }
  if (folders.empty()) {
    for (const auto& plugin : registry.plugins()) {
      folders.push_back(dir / plugin.info.name);
      fs::create_directories(folders.back());
    }
  }
  std::int64_t version = 0;
  for (const auto& folder : folders) {
    for (const auto& m : read_migrations(folder)) {
      version = std::max(version, m.version);
    }
  }
  const auto stem = fmt::format("{:04}_{}", version + 1, name);
  for (const auto& folder : folders) {
    std::ofstream(folder / (stem + ".up.sql"))
        << fmt::format("-- {}: {} (up). Runs in one transaction; see docs/migrations.md.\n", stem,
                       folder.filename().string());
    std::ofstream(folder / (stem + ".down.sql"))
        << fmt::format("-- {}: {} (down). Undoes exactly what the up script did.\n", stem,
                       folder.filename().string());
    std::cout << "created " << (folder / (stem + ".up.sql")).string() << " and .down.sql\n";
  }
  return exit_code::ok;
}

}  // namespace

exit_code migrate(const context& ctx, const migrate_request& request) {
  if (request.what == action::create) {
    return create(ctx, request.argument);
  }
  const auto plugins = ctx.discover_plugins();
  auto target = ctx.connect_for_migrations(plugins);
  migrator_options options;
  options.lock_timeout =
      ctx.config().seconds("EVSTORE_MIGRATION_LOCK_TIMEOUT", options.lock_timeout);
  options.dry_run = request.dry_run;
  options.single_transaction = target.single_transaction;
  migrator engine(target.conn, ctx.app_migrations(target.conn.backend_name()), options);
  const auto scope = default_scope(ctx);
  switch (request.what) {
    case action::up:
      print_steps(
          engine.up(request.to.empty() ? std::nullopt
                                       : std::optional(migration_id::parse(request.to, scope))),
          request.dry_run);
      return exit_code::ok;
    case action::down:
      print_steps(request.to.empty() ? engine.down(request.steps > 0 ? request.steps : 1)
                                     : engine.down_to(migration_id::parse(request.to, scope)),
                  request.dry_run);
      return exit_code::ok;
    case action::redo:
      print_steps(engine.redo(), false);
      return exit_code::ok;
    case action::rehash:
      engine.rehash(migration_id::parse(request.argument, scope));
      std::cout << "rehashed " << request.argument << '\n';
      return exit_code::ok;
    case action::status:
    case action::create:
      break;
  }
  return print_status(engine, request.exit_code);
}

}  // namespace evstore::cli
