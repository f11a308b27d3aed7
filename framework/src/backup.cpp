#include "evstore/backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>

#include <soci/soci.h>
#include <spdlog/fmt/fmt.h>

#include "evstore/error.hpp"

namespace fs = std::filesystem;

namespace evstore {
namespace {

// Flushes a file or folder to disk: the backup's bytes before the rename, then the rename
// itself, so that after a crash `output` is either the old file or the whole new one.
void sync_to_disk(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int saved = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    throw fs::filesystem_error("cannot flush to disk", path,
                               std::error_code(saved, std::generic_category()));
  }
  ::close(fd);
}

}  // namespace

void backup_to_file(const backend& db, const database_url& url, const fs::path& output) {
  if (output.empty() || !output.has_filename()) {
    throw config_error(
        fmt::format("cannot write the backup to \"{}\": name a file", output.string()));
  }
  const fs::path folder = output.has_parent_path() ? output.parent_path() : fs::path(".");
  std::error_code failure;
  if (!fs::is_directory(folder, failure)) {
    throw config_error(fmt::format("cannot write the backup to {}: the folder {} does not exist",
                                   output.string(), folder.string()));
  }
  if (fs::is_directory(output, failure)) {
    throw config_error(
        fmt::format("cannot write the backup to {}: it is a folder; name a file", output.string()));
  }
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    throw config_error(fmt::format("cannot write the backup to {}: the folder {} is not writable",
                                   output.string(), folder.string()));
  }
  // mkstemp makes the file with mode 0600: a backup holds all the data, so only its owner
  // may read it (chmod it to share it).
  auto pattern = (folder / ("." + output.filename().string() + ".partial-XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    throw config_error(fmt::format("cannot write the backup to {}: {}", output.string(),
                                   std::error_code(errno, std::generic_category()).message()));
  }
  ::close(fd);
  const fs::path temporary = pattern;
  try {
    db.backup(url, temporary);
    sync_to_disk(temporary, O_RDONLY);
    fs::rename(temporary, output);
    sync_to_disk(folder, O_RDONLY | O_DIRECTORY);
  } catch (...) {
    fs::remove(temporary, failure);
    throw;
  }
}

bool database_holds_data(connection& conn) {
  const auto* sql = conn.backend().sql_dialect();
  if (sql == nullptr) {
    throw config_error(
        fmt::format("the {} backend has no SQL dialect: cannot tell whether the "
                    "database holds data",
                    conn.backend_name()));
  }
  try {
    for (const std::string_view table : {"events", "media"}) {
      int exists = 0;
      conn.session() << sql->table_exists(table), soci::into(exists);
      if (exists == 0) {
        continue;
      }
      int one = 0;
      soci::indicator found = soci::i_null;
      conn.session() << fmt::format("SELECT 1 FROM {} LIMIT 1", table), soci::into(one, found);
      if (conn.session().got_data() && found == soci::i_ok) {
        return true;
      }
    }
  } catch (...) {
    conn.backend().rethrow_translated(std::current_exception(),
                                      "checking whether the database holds data");
  }
  return false;
}

}  // namespace evstore
