#pragma once

// Running the evstore command as a subprocess, as a user would.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <evstore/plugin_registry.hpp>

namespace evstore::test {

struct process_result {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

/// The sanitizer runtime options of this process (ASAN_OPTIONS, LSAN_OPTIONS, UBSAN_OPTIONS,
/// TSAN_OPTIONS), as KEY=value entries; empty outside a sanitizer run.
std::vector<std::string> sanitizer_environment();

/// Starts `argv` in `cwd` with exactly the environment `env` (nothing inherited but
/// sanitizer_environment(), so that a sanitizer build of the child reports where the run
/// looks: scripts/test-sanitizers.sh), its stdout and stderr written to `out` and `err`, and
/// returns its pid without waiting.
int start_process(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const std::filesystem::path& cwd,
                  const std::filesystem::path& out, const std::filesystem::path& err);

/// A process's exit code from its waitpid status: 128 + the signal when a signal ended it.
int exit_code_of(int status);

/// The whole content of a text file ("" when it cannot be read).
std::string read_text(const std::filesystem::path& file);

/// Runs `argv` in `cwd` with exactly the environment `env` (nothing inherited but
/// sanitizer_environment()), and waits.
process_result run_process(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           const std::filesystem::path& cwd);

/// The value of an environment variable that the test command must set; fails the test
/// with a message naming it when unset (PostgreSQL tests never skip).
std::string required_env(const char* name);

/// The plugins found on the default search path (the in-tree ones), loaded once.
const evstore::plugin_registry& default_plugins();

/// A fresh folder that is removed with this object.
class temp_dir {
 public:
  temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace evstore::test
