// A streaming standby of the test server (scripts/pg-standby-test-server.sh, which the test
// command starts: EVSTORE_TEST_STANDBY_URL, EVSTORE_TEST_STANDBY_DIR), talked to directly: what
// reads from a read replica (issue 15) can count on and must expect. A row committed on the
// primary becomes readable there after a while; the standby refuses writes; its replay can fall
// behind (paused here), and then a committed row is not there yet; it can be down, and it catches
// up once it is back. Each test has a database of its own on the primary, which the standby
// replays like everything else. The tests pause and stop the one standby: they hold the CTest
// resource lock `standby` (tests/CMakeLists.txt), so that no two run at once.

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/error.hpp>
#include <evstore/store.hpp>

#include "fresh_database.hpp"
#include "process.hpp"
#include "standby.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using evstore::test::eventually;
using evstore::test::standby_script;

// How long a committed row may take to show on the standby, on a machine whose cores are shared
// with other tests.
constexpr auto replication_deadline = 30s;

evstore::connection open(const evstore::database_url& url) {
  evstore::store_options options;
  options.connect.connect_timeout = 5s;
  return evstore::open_connection(evstore::test::default_plugins(), url, options);
}

long long rows_noted(evstore::connection& connection, const std::string& note) {
  long long rows = -1;
  connection.session() << "SELECT COUNT(*) FROM replica_probe WHERE note = :note", soci::use(note),
      soci::into(rows);
  return rows;
}

std::string current_wal_lsn(evstore::connection& primary) {
  std::string lsn;
  primary.session() << "SELECT pg_current_wal_lsn()::text", soci::into(lsn);
  return lsn;
}

// How many bytes of WAL the standby has yet to receive (`function` pg_last_wal_receive_lsn) or to
// replay (pg_last_wal_replay_lsn) to reach `lsn`: 0 or less once it has.
long long bytes_short_of(evstore::connection& standby, const std::string& function,
                         const std::string& lsn) {
  long long bytes = 0;
  standby.session() << "SELECT pg_wal_lsn_diff(:lsn::pg_lsn, " + function + "())::bigint",
      soci::use(lsn), soci::into(bytes);
  return bytes;
}

class standby : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto text = evstore::test::required_env("EVSTORE_TEST_STANDBY_URL");
    ASSERT_FALSE(text.empty()) << "scripts/pg-standby-test-server.sh start DIR PGDIR writes it "
                                  "to DIR/env; the replica tests never skip";
    database_.emplace("replica");
    standby_url_ = evstore::parse_database_url(text);
    standby_url_.database = database_->name();
    primary_.emplace(open(database_->url()));
    primary_->execute("CREATE TABLE replica_probe (id BIGSERIAL PRIMARY KEY, note TEXT NOT NULL)");
    // The database and the table exist on the standby once it has replayed them.
    ASSERT_TRUE(eventually(
        [&] {
          connect_standby();
          return rows_noted(*standby_, "") == 0;
        },
        replication_deadline))
        << "the standby did not replay the test's database and table";
  }

  // Whatever a test did and however it ended: the standby runs, and replays.
  void TearDown() override {
    if (down_) {
      standby_script("up");
      down_ = false;
    }
    if (paused_) {
      try {
        open(standby_url_).execute("SELECT pg_wal_replay_resume()");
        paused_ = false;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "the standby's replay could not be resumed: " << e.what();
      }
    }
    // Closed before the database is dropped on the primary (which would end it on the standby).
    standby_.reset();
    primary_.reset();
  }

  void connect_standby() { standby_.emplace(open(standby_url_)); }

  // Commits a row with `note` on the primary; returns the primary's WAL position after it.
  std::string commit_on_primary(const std::string& note) {
    primary_->session() << "INSERT INTO replica_probe (note) VALUES (:note)", soci::use(note);
    return current_wal_lsn(*primary_);
  }

  // Whether the row with `note` becomes readable on the standby within the deadline; on a
  // connection opened afresh when the standby has none (it was down).
  bool becomes_readable(const std::string& note) {
    return eventually(
        [&] {
          if (!standby_) {
            connect_standby();
          }
          return rows_noted(*standby_, note) == 1;
        },
        replication_deadline);
  }

  std::optional<evstore::test::fresh_postgresql_database> database_;
  evstore::database_url standby_url_;
  std::optional<evstore::connection> primary_;
  std::optional<evstore::connection> standby_;
  bool paused_ = false;
  bool down_ = false;
};

}  // namespace

TEST_F(standby, a_row_committed_on_the_primary_becomes_readable_on_the_standby) {
  const auto since = steady::now();
  (void)commit_on_primary("committed");
  ASSERT_TRUE(becomes_readable("committed"));
  std::cout << "readable on the standby "
            << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - since).count()
            << " ms after the commit\n";
  EXPECT_EQ(rows_noted(*primary_, "committed"), 1);
}

TEST_F(standby, the_standby_refuses_writes_with_sqlstate_25006_and_stays_usable) {
  for (const char* statement :
       {"INSERT INTO replica_probe (note) VALUES ('written on the standby')",
        "CREATE TABLE written_on_the_standby (id BIGINT)"}) {
    try {
      standby_->execute(statement);
      ADD_FAILURE() << "the standby ran " << statement;
    } catch (const evstore::error& e) {
      EXPECT_EQ(e.native_code(), "25006") << e.what();  // read_only_sql_transaction
      EXPECT_EQ(e.category(), evstore::error_category::database) << e.what();
    }
  }
  EXPECT_EQ(rows_noted(*standby_, "written on the standby"), 0);
  (void)standby_->ping();
}

TEST_F(standby, while_replay_is_paused_a_new_row_stays_invisible_and_the_standby_behind) {
  standby_->execute("SELECT pg_wal_replay_pause()");
  paused_ = true;
  const auto lsn = commit_on_primary("while paused");

  // The row's WAL reaches the standby, whose replay stops before the first record it has not
  // applied yet: the pause was asked for before the row was written.
  ASSERT_TRUE(
      eventually([&] { return bytes_short_of(*standby_, "pg_last_wal_receive_lsn", lsn) <= 0; },
                 replication_deadline))
      << "the standby did not receive the WAL up to " << lsn;
  ASSERT_TRUE(eventually(
      [&] {
        std::string state;
        standby_->session() << "SELECT pg_get_wal_replay_pause_state()", soci::into(state);
        return state == "paused";
      },
      replication_deadline))
      << "the standby's replay did not pause";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(rows_noted(*standby_, "while paused"), 0);
  EXPECT_GT(bytes_short_of(*standby_, "pg_last_wal_replay_lsn", lsn), 0)
      << "the standby replayed past " << lsn << " while paused";

  standby_->execute("SELECT pg_wal_replay_resume()");
  paused_ = false;
  ASSERT_TRUE(becomes_readable("while paused"));
  EXPECT_LE(bytes_short_of(*standby_, "pg_last_wal_replay_lsn", lsn), 0);
}

TEST_F(standby, a_standby_that_was_down_refuses_connections_and_catches_up_once_it_is_up) {
  standby_.reset();
  down_ = true;  // TearDown starts it again, also when this fails half-way
  ASSERT_NO_FATAL_FAILURE(standby_script("down"));
  EXPECT_THROW((void)open(standby_url_), evstore::connection_error);
  (void)commit_on_primary("while down");

  ASSERT_NO_FATAL_FAILURE(standby_script("up"));
  down_ = false;
  ASSERT_TRUE(becomes_readable("while down"));
}
