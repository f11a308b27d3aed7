#pragma once

// The evstore command running as a server in the background, as an operator runs it: started
// with an environment of its own, its output captured, stopped with SIGTERM.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace evstore::test {

class server_process {
 public:
  /// Starts `argv` in `cwd` with exactly the environment `env`, stdout and stderr going to
  /// files, and waits until stdout has a line starting with "listening on ".
  /// @throws std::runtime_error, with the output so far, when the process exits first or
  ///         prints no such line within `ready_within` (it is then killed).
  server_process(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& env, const std::filesystem::path& cwd,
                 std::chrono::milliseconds ready_within = std::chrono::seconds(10));
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;
  /// stop(), if it is still running.
  ~server_process();

  /// The port in the "listening on http://HOST:PORT ..." line.
  [[nodiscard]] int port() const noexcept { return port_; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// Sends `signal` (SIGTERM by default) and waits up to `limit` for the process to exit,
  /// then kills it with SIGKILL. Returns its exit code, or 128 + the signal that ended it.
  /// Once stopped, later calls return the same code.
  int stop(int signal = 15, std::chrono::milliseconds limit = std::chrono::seconds(10));

  /// Whether it has exited by itself (reaping it if so).
  [[nodiscard]] bool exited();

  /// What it has written so far.
  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;

 private:
  // Waits up to `limit` for the process to exit; its exit code, if it did.
  std::optional<int> wait_for_exit(std::chrono::milliseconds limit);

  temp_dir outputs_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::optional<int> exit_code_;
};

}  // namespace evstore::test
