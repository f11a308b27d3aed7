#pragma once

// A COMMIT that takes its time on PostgreSQL: a window in which to lose a commit's answer
// (kill its backend, let the call timeout pass), as tests of commit_unknown need.

#include <evstore/connection.hpp>

namespace evstore::test {

/// Makes COMMIT of a transaction that inserted into `events` sleep `seconds` on the server
/// (wait_event PgSleep): a deferred constraint trigger named test_slow_commit, which
/// `DROP TRIGGER test_slow_commit ON events` removes. `conn` is a PostgreSQL connection to
/// the migrated database.
void slow_down_commits(connection& conn, double seconds);

}  // namespace evstore::test
