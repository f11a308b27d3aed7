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

}  // namespace evstore::cli
