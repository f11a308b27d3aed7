// `evstore backup` and `evstore restore` on SQLite files, through the online backup API.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/store.hpp>

#include "concurrent_writers.hpp"
#include "process.hpp"
#include "table_checksum.hpp"

namespace fs = std::filesystem;
using evstore::test::run_process;

namespace {

struct sandbox {
  evstore::test::temp_dir dir;
  std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"}};

  // Runs evstore on sqlite://<file> in the sandbox.
  evstore::test::process_result run(const std::string& file, std::vector<std::string> args) const {
    args.insert(args.begin(), {EVSTORE_CLI, "--database-url", "sqlite://" + file});
    return run_process(args, env, dir.path());
  }
  evstore::test::process_result run_ok(const std::string& file,
                                       const std::vector<std::string>& args) const {
    auto result = run(file, args);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return result;
  }
  [[nodiscard]] evstore::database_url url(const std::string& file) const {
    return evstore::parse_database_url("sqlite://" + (dir.path() / file).string());
  }
  [[nodiscard]] evstore::test::table_digest digest(const std::string& file) const {
    auto conn = evstore::connection::open(evstore::test::default_plugins(), url(file), {});
    return evstore::test::digest_tables(conn);
  }
  void seed(const std::string& file, const std::string& seed) const {
    run_ok(file, {"migrate", "up"});
    run_ok(file, {"seed", "--seed", seed, "--events", "60", "--media-per-event", "5"});
  }
  // Every file in the folder, to show that nothing partial was left behind.
  [[nodiscard]] std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

TEST(backup_sqlite, a_restored_backup_has_the_same_rows_as_the_original) {
  const sandbox box;
  box.seed("original.db", "5");
  const auto before = box.digest("original.db");
  const auto backup = box.run_ok("original.db", {"backup", "--output", "original.backup"});
  EXPECT_NE(backup.out.find("backed up sqlite://original.db to original.backup"), std::string::npos)
      << backup.out;
  EXPECT_EQ(fs::status(box.dir.path() / "original.backup").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write)
      << "a backup holds all the data: readable by its owner only";

  for (const auto* suffix : {"", "-wal", "-shm"}) {
    fs::remove(box.dir.path() / (std::string("original.db") + suffix));
  }
  const auto restore = box.run_ok("restored.db", {"restore", "--input", "original.backup"});
  EXPECT_NE(restore.out.find("65 events, 307 media"), std::string::npos) << restore.out;
  EXPECT_EQ(box.digest("restored.db"), before);
}

TEST(backup_sqlite, restore_into_a_database_with_data_exits_12_unless_forced) {
  const sandbox box;
  box.seed("original.db", "5");
  const auto original = box.digest("original.db");
  box.run_ok("original.db", {"backup", "-o", "original.backup"});
  box.seed("other.db", "6");
  const auto other = box.digest("other.db");
  ASSERT_NE(original.checksum, other.checksum);

  const auto refused = box.run("other.db", {"restore", "-i", "original.backup"});
  EXPECT_EQ(refused.exit_code, 12) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("holds events or media"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(box.digest("other.db"), other) << "nothing changed";

  box.run_ok("other.db", {"restore", "-i", "original.backup", "--force"});
  EXPECT_EQ(box.digest("other.db"), original);
}

TEST(backup_sqlite, a_migrated_but_empty_database_is_restored_without_force) {
  const sandbox box;
  box.seed("original.db", "5");
  box.run_ok("original.db", {"backup", "-o", "original.backup"});
  box.run_ok("empty.db", {"migrate", "up"});
  box.run_ok("empty.db", {"restore", "-i", "original.backup"});
  EXPECT_EQ(box.digest("empty.db"), box.digest("original.db"));
}

TEST(backup_sqlite, a_backup_taken_during_four_writers_restores_to_a_consistent_state) {
  const sandbox box;
  box.seed("busy.db", "5");
  auto target = evstore::store::open(box.url("busy.db"));
  evstore::test::concurrent_writers writers(*target, 4);
  ASSERT_TRUE(writers.wait_for(20, std::chrono::seconds(30))) << writers.first_error();
  const auto during = writers.committed();
  box.run_ok("busy.db", {"backup", "-o", "busy.backup"});
  const auto after = writers.committed();
  writers.stop();
  EXPECT_EQ(writers.first_error(), "");
  EXPECT_GT(after, during) << "the writers went on during the backup";

  box.run_ok("restored.db", {"restore", "-i", "busy.backup"});
  auto conn =
      evstore::connection::open(evstore::test::default_plugins(), box.url("restored.db"), {});
  const auto report = evstore::test::check_consistency(conn);
  EXPECT_EQ(report.orphan_media, 0);
  EXPECT_EQ(report.incomplete_writers, 0);
  EXPECT_EQ((report.writer_events + report.writer_media) % 4, 0);
  EXPECT_GE(report.writer_events, during);
  EXPECT_LE(report.writer_events, writers.committed());
}

TEST(backup_sqlite, a_missing_output_folder_exits_3_and_leaves_no_file) {
  const sandbox box;
  box.seed("original.db", "5");
  const auto before = box.files();
  const auto result = box.run("original.db", {"backup", "-o", "no/such/folder/x.backup"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("the folder no/such/folder does not exist"), std::string::npos)
      << result.err;
  EXPECT_EQ(box.files(), before);
}

TEST(backup_sqlite, a_failed_backup_leaves_neither_a_partial_file_nor_the_old_one_damaged) {
  const sandbox box;
  std::ofstream(box.dir.path() / "keep.backup") << "an older backup";
  const auto before = box.files();
  const auto result = box.run("missing.db", {"backup", "-o", "keep.backup"});
  EXPECT_EQ(result.exit_code, 5) << result.out << result.err;
  EXPECT_NE(result.err.find("there is no database file missing.db"), std::string::npos)
      << result.err;
  EXPECT_EQ(box.files(), before) << "no .partial file left";
  std::ifstream kept(box.dir.path() / "keep.backup");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(kept), {}), "an older backup");
}

TEST(backup_sqlite, an_in_memory_database_cannot_be_backed_up) {
  sandbox box;
  const auto result =
      run_process({EVSTORE_CLI, "--database-url", "sqlite::memory:", "backup", "-o", "m.backup"},
                  box.env, box.dir.path());
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("in-memory"), std::string::npos) << result.err;
}

TEST(backup_sqlite, restoring_a_file_that_is_not_a_sqlite_backup_exits_3_and_changes_nothing) {
  const sandbox box;
  box.seed("original.db", "5");
  const auto before = box.digest("original.db");
  std::ofstream(box.dir.path() / "dump.backup") << "PGDMP not for sqlite";
  const auto result = box.run("original.db", {"restore", "-i", "dump.backup", "--force"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("is not a SQLite backup"), std::string::npos) << result.err;
  EXPECT_EQ(box.digest("original.db"), before);

  const auto missing = box.run("original.db", {"restore", "-i", "nothing.backup"});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("there is no such file"), std::string::npos) << missing.err;
}
