#pragma once

/// @file
/// Backing up and restoring a database through its backend (`evstore backup`, `evstore
/// restore`; docs/backup.md). The backend does the work (backend::backup, backend::restore);
/// these functions add what every backend needs: a backup file that appears whole or not at
/// all, and a check that a restore would not overwrite data.

#include <filesystem>

#include "evstore/backend.hpp"
#include "evstore/config.hpp"
#include "evstore/connection.hpp"
#include "evstore/export.hpp"

namespace evstore {

/// Backs up the database at `url` through `db` into `output`, atomically: the backend writes
/// a temporary file in the same folder (`.<name>.partial-XXXXXX`, readable by its owner
/// only), which is flushed to disk and renamed to `output` only when the backup is complete.
/// A failed backup leaves no file behind and an existing `output` untouched.
/// @throws config_error when the folder of `output` does not exist, is not writable, or
///         `output` is a folder; whatever backend::backup throws;
///         std::filesystem::filesystem_error when the finished file cannot be flushed or
///         renamed.
EVSTORE_API void backup_to_file(const backend& db, const database_url& url,
                                const std::filesystem::path& output);

/// Whether the database holds any event or media row; false when the tables do not exist
/// (a database that was never migrated).
/// @throws the evstore::error a query fails with.
[[nodiscard]] EVSTORE_API bool database_holds_data(connection& conn);

}  // namespace evstore
