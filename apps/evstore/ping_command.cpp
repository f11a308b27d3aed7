#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include <evstore/connection.hpp>

#include "commands.hpp"

namespace evstore::cli {

exit_code ping(const context& ctx) {
  const auto url = ctx.config().database();
  const auto registry = ctx.discover_plugins();
  auto connection = ctx.connect(registry);
  const auto round_trip = connection.ping();
  std::cout << fmt::format("ok: {} {} at {}, round trip {:.3f} ms\n", connection.backend_name(),
                           connection.server_version(), url.redacted(),
                           std::chrono::duration<double, std::milli>(round_trip).count());
  return exit_code::ok;
}

}  // namespace evstore::cli
