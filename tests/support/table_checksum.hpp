#pragma once

// Fingerprints of the data in an evstore database, to compare two databases (the same seed on
// two backends; a database and its restored backup) without trusting the code under test.

#include <string>

#include <evstore/connection.hpp>

namespace evstore::test {

/// Whether the columns the database maintains itself (created_at, updated_at: the time of the
/// insert) take part. Exclude them to compare two databases filled alike at different times;
/// include them to compare a database with its restored backup.
enum class maintained_columns { included, excluded };

struct table_digest {
  /// SHA-256 (evstore::sha256_hex) over a canonical text of every column of every row of
  /// `events`, then of `media`, each ordered by id. In the text, timestamps are integer
  /// microseconds since the epoch, UUIDs lower case, doubles in their shortest exact decimal
  /// form, JSON re-serialised with sorted keys and no spaces (jsonb reorders keys, SQLite keeps
  /// the text), NULL is \N, and tab, newline and backslash in text are escaped.
  std::string checksum;
  long long events = 0;
  long long media = 0;

  friend bool operator==(const table_digest&, const table_digest&) = default;
};

/// The digest of the events and media tables reached through `conn`.
[[nodiscard]] table_digest digest_tables(
    connection& conn, maintained_columns maintained = maintained_columns::included);

/// What a consistency check of a database finds. Writer rows are those of concurrent_writers:
/// events titled "writer ...", each written in one transaction with exactly 3 media.
struct consistency_report {
  long long orphan_media = 0;        ///< media whose event does not exist
  long long writer_events = 0;       ///< events written by concurrent_writers
  long long writer_media = 0;        ///< their media
  long long incomplete_writers = 0;  ///< writer events without exactly 3 media
};

[[nodiscard]] consistency_report check_consistency(connection& conn);

}  // namespace evstore::test
