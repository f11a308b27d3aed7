#include "process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace evstore::test {
std::vector<std::string> sanitizer_environment() {
  std::vector<std::string> entries;
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) {
      entries.push_back(std::string(name) + "=" + value);
    }
  }
  return entries;
}

int start_process(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const std::filesystem::path& cwd,
                  const std::filesystem::path& out_file, const std::filesystem::path& err_file) {
  std::vector<std::string> env_strings = sanitizer_environment();
  for (const auto& [key, value] : env) {
    env_strings.push_back(key + "=" + value);
  }
  std::vector<char*> c_argv;
  for (const auto& arg : argv) {
    c_argv.push_back(const_cast<char*>(arg.c_str()));
  }
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (auto& entry : env_strings) {
    c_env.push_back(entry.data());
  }
  c_env.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0 ||
        chdir(cwd.c_str()) != 0) {
      _exit(127);
    }
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  return pid;
}

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

process_result run_process(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env,
                           const std::filesystem::path& cwd) {
  const temp_dir outputs;
  const auto out_file = outputs.path() / "out";
  const auto err_file = outputs.path() / "err";
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = start_process(argv, env, cwd, out_file, err_file);
  int status = 0;
  waitpid(pid, &status, 0);
  process_result result;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  result.exit_code = exit_code_of(status);
  result.out = read_text(out_file);
  result.err = read_text(err_file);
  return result;
}

std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    ADD_FAILURE() << name
                  << " is not set: run the tests with scripts/test.sh, which starts a throw-away "
                     "PostgreSQL server and sets it";
    return {};
  }
  return value;
}

const evstore::plugin_registry& default_plugins() {
  static const auto registry =
      evstore::plugin_registry::discover(evstore::plugin_registry::search_path(""));
  return registry;
}

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "evstore-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace evstore::test
