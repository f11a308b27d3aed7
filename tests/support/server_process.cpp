#include "server_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <thread>

namespace evstore::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::string_view listening = "listening on ";

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
  pid_ = start_process(argv, env, cwd, out_file, err_file);

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
    exit_code_ = exit_code_of(status);
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
  exit_code_ = exit_code_of(status);
  return *exit_code_;
}

std::string server_process::out() const {
  return read_text(outputs_.path() / "out");
}

std::string server_process::err() const {
  return read_text(outputs_.path() / "err");
}

}  // namespace evstore::test
