#pragma once

/// @file
/// Migrations as files: `NNNN_name.up.sql` and, optionally, `NNNN_name.down.sql`.
///
/// A script whose first line is `-- evstore:no-transaction` runs outside a transaction, for
/// statements that refuse one (PostgreSQL's CREATE INDEX CONCURRENTLY). See docs/migrations.md
/// for what that costs.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evstore/export.hpp"

namespace evstore {

/// One versioned migration.
struct migration {
  std::int64_t version = 0;
  std::string name;                 ///< from the file name, e.g. "create_events"
  std::string up;                   ///< the up script, as written
  std::optional<std::string> down;  ///< the down script, if there is one
  std::string checksum;             ///< SHA-256 of `up`, lower-case hex
  bool transactional = true;        ///< false with the no-transaction directive
  std::string origin;               ///< where it came from, for messages
};

/// A file's name and content, as embedded in a plugin or read from a folder.
struct migration_file {
  std::string name;  ///< e.g. "0001_create_events.up.sql"
  std::string text;
};

/// The first line that turns the transaction off.
inline constexpr std::string_view no_transaction_directive = "-- evstore:no-transaction";

/// SHA-256 of `data` in lower-case hex.
[[nodiscard]] EVSTORE_API std::string sha256_hex(std::string_view data);

/// Pairs up/down files into migrations ordered by version.
/// @param origin prefixed to each file name in `migration::origin` and in errors.
/// @throws migration_error for a name not of the form NNNN_name.(up|down).sql, a version used
///         twice, or a down file without its up file.
[[nodiscard]] EVSTORE_API std::vector<migration> parse_migrations(
    const std::vector<migration_file>& files, const std::string& origin);

/// Reads every `*.sql` file of `folder` and parses them (see parse_migrations).
/// @throws migration_error when the folder cannot be read.
[[nodiscard]] EVSTORE_API std::vector<migration> read_migrations(
    const std::filesystem::path& folder);

}  // namespace evstore
