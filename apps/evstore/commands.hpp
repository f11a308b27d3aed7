#pragma once

// The commands of the evstore command line, each returning its exit code.

#include "context.hpp"
#include "exit_codes.hpp"

namespace evstore::cli {

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
