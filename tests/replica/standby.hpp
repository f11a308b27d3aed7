#pragma once

// The test command's streaming standby of the test server (scripts/pg-standby-test-server.sh:
// EVSTORE_TEST_STANDBY_URL, EVSTORE_TEST_STANDBY_DIR), as the read-replica tests use it.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <evstore/config.hpp>
#include <evstore/store.hpp>

namespace evstore::test {

/// The standby's URL, naming `database` (a database of the primary, which the standby
/// replicates).
[[nodiscard]] database_url standby_url(const std::string& database);

/// Runs `sql` on the standby's `postgres` database, such as SELECT pg_wal_replay_pause().
void on_standby(const std::string& sql);

/// Runs pg-standby-test-server.sh with `action` (down, up) on the test command's standby.
void standby_script(const std::string& action);

/// Polls `done` every 10 ms until it holds or `limit` passes; whether it held. A `done` that
/// throws (the standby is still starting, or has not replayed a table yet) does not hold.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

/// A migrated store on `primary` with the standby, naming the same database, as its read
/// replica; the replicas are checked every 20 ms. Returns once the replica is up.
[[nodiscard]] std::unique_ptr<store> replica_store(const database_url& primary,
                                                   store_options options = {});

/// A scope's position, from its token.
[[nodiscard]] std::uint64_t position_of(const causal_scope& scope);

/// Whether the store's first replica has replayed `position`, as the store last checked.
[[nodiscard]] bool replayed(const store& s, std::uint64_t position);

}  // namespace evstore::test
