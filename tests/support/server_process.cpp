#include "server_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace evstore::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::string_view listening = "listening on ";

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int decode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The port of "listening on http://HOST:PORT (...)": the digits after the last ':' before
// the first space after the URL; 0 when the line is not there (yet).
int port_in(const std::string& out) {
  const auto at = out.find(listening);
  if (at == std::string::npos) {
    return 0;
  }
  const auto end_of_line = out.find('\n', at);
  if (end_of_line == std::string::npos) {
    return 0;
  }
  const auto url_end = out.find(' ', at + listening.size());
  const auto colon = out.rfind(':', url_end);
  if (url_end == std::string::npos || colon == std::string::npos || colon < at) {
    return 0;
  }
  return std::stoi(out.substr(colon + 1, url_end - colon - 1));
}

}  // namespace

server_process::server_process(const std::vector<std::string>& argv,
                               const std::map<std::string, std::string>& env,
                               const std::filesystem::path& cwd,
                               std::chrono::milliseconds ready_within) {
  const auto out_file = outputs_.path() / "out";
  const auto err_file = outputs_.path() / "err";
  std::vector<std::string> env_strings;
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

  pid_ = fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0 ||
        chdir(cwd.c_str()) != 0) {
      _exit(127);
    }
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }

  const auto deadline = steady::now() + ready_within;
  while (steady::now() < deadline) {
    port_ = port_in(out());
    if (port_ != 0) {
      return;
    }
    if (exited()) {
      throw std::runtime_error("the server exited with " + std::to_string(*exit_code_) +
                               " before listening:\n" + out() + err());
    }
    std::this_thread::sleep_for(10ms);
  }
  const int code = stop(SIGKILL);
  throw std::runtime_error("the server did not print \"listening on\" within " +
                           std::to_string(ready_within.count()) + " ms (killed, " +
                           std::to_string(code) + "):\n" + out() + err());
}

server_process::~server_process() {
  if (!exit_code_) {
    (void)stop();
  }
}

std::optional<int> server_process::wait_for_exit(std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  for (;;) {
    if (exited()) {
      return exit_code_;
    }
    if (steady::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
}

bool server_process::exited() {
  if (exit_code_) {
    return true;
  }
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = decode(status);
  }
  return exit_code_.has_value();
}

int server_process::stop(int signal, std::chrono::milliseconds limit) {
  if (exited()) {
    return *exit_code_;
  }
  kill(pid_, signal);
  if (const auto code = wait_for_exit(limit)) {
    return *code;
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = decode(status);
  return *exit_code_;
}

std::string server_process::out() const {
  return read_file(outputs_.path() / "out");
}

std::string server_process::err() const {
  return read_file(outputs_.path() / "err");
}

}  // namespace evstore::test
