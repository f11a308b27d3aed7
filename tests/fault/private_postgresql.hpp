#pragma once

// A PostgreSQL server of one test's own (scripts/pg-test-server.sh in a unique folder), which
// the test may stop (SIGSTOP: a hung server) and resume. Stopped, and resumed first, with
// this object, whatever the test's outcome.

#include <sys/types.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace evstore::test {

class private_postgresql {
 public:
  /// Starts the server (a few seconds: initdb, start, CREATE DATABASE).
  /// @throws std::runtime_error when the script fails.
  private_postgresql() {
    std::random_device random;
    dir_ = std::filesystem::path("/tmp") /
           ("evstore-fault-pg-" + std::to_string(getpid()) + "-" + std::to_string(random()));
    if (std::system((script("start") + " >/dev/null").c_str()) != 0) {
      std::system(script("stop").c_str());
      throw std::runtime_error("pg-test-server.sh start " + dir_.string() + " failed");
    }
    std::ifstream env(dir_ / "env");
    for (std::string line; std::getline(env, line);) {
      // export KEY='value'
      const auto eq = line.find('=');
      if (!line.starts_with("export ") || eq == std::string::npos || line.size() < eq + 3) {
        continue;
      }
      env_[line.substr(7, eq - 7)] = line.substr(eq + 2, line.size() - eq - 3);
    }
  }
  private_postgresql(const private_postgresql&) = delete;
  private_postgresql& operator=(const private_postgresql&) = delete;
  ~private_postgresql() {
    resume();
    std::system(script("stop").c_str());
  }

  /// A variable of the server's env file, e.g. EVSTORE_TEST_POSTGRESQL_URL.
  [[nodiscard]] std::string env(const std::string& key) const {
    const auto found = env_.find(key);
    return found == env_.end() ? std::string() : found->second;
  }
  [[nodiscard]] std::string url() const { return env("EVSTORE_TEST_POSTGRESQL_URL"); }
  [[nodiscard]] std::string password() const { return env("EVSTORE_TEST_POSTGRESQL_PASSWORD"); }

  /// Stops the server with pg_ctl's `mode` ("fast": sessions end cleanly; "immediate": a
  /// crash, with recovery at start) and starts it again on the same port; returns once it
  /// accepts connections.
  /// @throws std::runtime_error when the script fails.
  void restart(const std::string& mode) {
    if (std::system((script("restart") + " " + mode).c_str()) != 0) {
      throw std::runtime_error("pg-test-server.sh restart " + dir_.string() + " failed");
    }
  }

  /// The postmaster's process id.
  [[nodiscard]] pid_t postmaster() const {
    std::ifstream pid_file(std::filesystem::path(env("EVSTORE_TEST_POSTGRESQL_DATA")) /
                           "postmaster.pid");
    pid_t pid = 0;
    pid_file >> pid;
    if (pid <= 0) {
      throw std::runtime_error("no postmaster.pid in " + dir_.string());
    }
    return pid;
  }

  /// Stops (SIGSTOP) the postmaster and every child of it: the server hangs, its sockets
  /// stay open, and the kernel still acknowledges what is sent to it.
  void hang() {
    std::vector<pid_t> processes{postmaster()};
    const std::string command = "pgrep -P " + std::to_string(processes.front());
    if (FILE* children = popen(command.c_str(), "r")) {
      for (int child = 0; std::fscanf(children, "%d", &child) == 1;) {
        processes.push_back(child);
      }
      pclose(children);
    }
    for (const pid_t pid : processes) {
      kill(pid, SIGSTOP);
      stopped_.push_back(pid);
    }
  }

  /// Resumes (SIGCONT) what hang() stopped.
  void resume() {
    for (const pid_t pid : stopped_) {
      kill(pid, SIGCONT);
    }
    stopped_.clear();
  }

 private:
  [[nodiscard]] std::string script(const char* action) const {
    return "bash '" EVSTORE_SOURCE_DIR "/scripts/pg-test-server.sh' " + std::string(action) + " '" +
           dir_.string() + "'";
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::vector<pid_t> stopped_;
};

}  // namespace evstore::test
