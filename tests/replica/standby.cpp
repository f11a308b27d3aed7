#include "standby.hpp"

#include <cstdlib>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include <evstore/connection.hpp>

#include "process.hpp"

namespace evstore::test {

database_url standby_url(const std::string& database) {
  auto url = parse_database_url(required_env("EVSTORE_TEST_STANDBY_URL"));
  url.database = database;
  return url;
}

void on_standby(const std::string& sql) {
  auto conn = open_connection(default_plugins(), standby_url("postgres"), {});
  conn.execute(sql);
}

void standby_script(const std::string& action) {
  const char* path = std::getenv("PATH");
  std::map<std::string, std::string> env{{"PATH", path != nullptr ? path : "/usr/bin:/bin"}};
  if (const char* bindir = std::getenv("EVSTORE_PG_BINDIR")) {
    env["EVSTORE_PG_BINDIR"] = bindir;
  }
  const auto result =
      run_process({"/bin/bash", EVSTORE_SOURCE_DIR "/scripts/pg-standby-test-server.sh", action,
                   required_env("EVSTORE_TEST_STANDBY_DIR")},
                  env, ".");
  ASSERT_EQ(result.exit_code, 0) << "pg-standby-test-server.sh " << action << ": " << result.err;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    try {
      if (done()) {
        return true;
      }
    } catch (const std::exception&) {
      // not yet
    }
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::unique_ptr<store> replica_store(const database_url& primary, store_options options) {
  options.read_urls = {standby_url(primary.database)};
  options.replicas.check_interval = std::chrono::milliseconds(20);
  auto made = store::open(primary, options);
  (void)made->migrate();
  // The standby has the database once it replays its creation.
  EXPECT_TRUE(eventually([&] { return made->replicas().at(0).state == replica_state::up; }))
      << made->replicas().at(0).reason;
  return made;
}

std::uint64_t position_of(const causal_scope& scope) {
  return std::stoull(scope.token().substr(4), nullptr, 16);
}

bool replayed(const store& s, std::uint64_t position) {
  return s.replicas().at(0).replayed >= position;
}

}  // namespace evstore::test
