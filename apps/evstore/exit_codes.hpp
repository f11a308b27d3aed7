#pragma once

// The exit codes of the evstore command, listed in `evstore --help` and the README.

namespace evstore::cli {

enum class exit_code : int {
  ok = 0,
  failure = 1,     // an error not covered below
  usage = 2,       // bad command line
  config = 3,      // bad configuration (DATABASE_URL, .env, EVSTORE_* values)
  plugin = 4,      // a plugin is missing, refused, or none serves the URL's scheme
  connection = 5,  // the database cannot be reached or refused the login
  database = 6,    // the database reported another error
  migration = 7,   // a migration failed, drifted, or the migration lock could not be had
  pending = 8,     // `migrate status --exit-code`: migrations are pending
  drift = 9,       // `migrate status --exit-code`: an applied migration is modified or missing
  degraded = 10,   // `health`: the database answers, but migrations are pending or callers queue
  down = 11,       // `health`: the database cannot be reached, failed, or did not answer in time
  refused = 12,    // `restore`: the database holds events or media and --force was not given
  stats_not_enabled = 13,  // `stats`: the database could track statements but does not
  commit_unknown = 14,     // COMMIT was sent but its answer lost: the writes may or may not be
                           // stored; check (or re-run an idempotent command) before retrying
};

inline constexpr const char* exit_code_help =
    "Exit codes: 0 ok, 1 failure, 2 usage error, 3 configuration error, 4 plugin error,\n"
    "            5 connection error, 6 other database error, 7 migration error,\n"
    "            8 migrations pending, 9 migrations modified or missing (both: migrate status\n"
    "            --exit-code), 10 degraded, 11 down (both: health), 12 restore refused: the\n"
    "            database holds data (restore without --force), 13 statement statistics not\n"
    "            enabled (stats), 14 commit outcome unknown: the connection was lost after\n"
    "            COMMIT was sent, so the writes may or may not be stored.";

}  // namespace evstore::cli
