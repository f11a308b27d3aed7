// A hung server (a stopped process) is invisible to TCP timeouts on loopback, where the kernel
// still acknowledges: only the client-side deadline of backend::ping bounds the wait.

#include <chrono>

#include <gtest/gtest.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>

#include "fresh_database.hpp"
#include "private_postgresql.hpp"
#include "process.hpp"

using namespace std::chrono_literals;

TEST(ping_deadline, ping_gives_up_at_its_deadline_when_the_server_is_stopped) {
  evstore::test::private_postgresql server;
  auto conn = evstore::connection::open(evstore::test::default_plugins(),
                                        evstore::parse_database_url(server.url()), {});
  const auto round_trip = conn.backend().ping(conn.session(), 1000ms);
  EXPECT_GT(round_trip, 0us);
  EXPECT_LT(round_trip, 1000ms);

  server.hang();
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)conn.backend().ping(conn.session(), 300ms);
    ADD_FAILURE() << "ping returned although the server is stopped";
  } catch (const evstore::error& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::timeout_error)) << e.what();
    EXPECT_NE(std::string(e.what()).find("within 300 ms"), std::string::npos) << e.what();
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 1s);
  server.resume();

  // A new connection works again once the server runs; the timed-out one is discarded.
  auto fresh = evstore::connection::open(evstore::test::default_plugins(),
                                         evstore::parse_database_url(server.url()), {});
  EXPECT_LT(fresh.backend().ping(fresh.session(), 5000ms), 5000ms);
}

TEST(ping_deadline, ping_on_a_terminated_connection_is_a_connection_error) {
  const evstore::test::fresh_postgresql_database db("ping_terminated");
  auto conn = evstore::connection::open(evstore::test::default_plugins(), db.url(), {});
  auto admin = evstore::connection::open(evstore::test::default_plugins(), db.url(), {});
  admin.execute(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE pid <> "
      "pg_backend_pid() AND datname = current_database()");
  EXPECT_THROW((void)conn.backend().ping(conn.session(), 2000ms), evstore::connection_error);
}
