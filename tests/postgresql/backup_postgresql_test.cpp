// `evstore backup` and `evstore restore` on PostgreSQL, through pg_dump -Fc and pg_restore.
// Every command's output is searched for the test server's password.

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/redact.hpp>
#include <evstore/store.hpp>

#include "concurrent_writers.hpp"
#include "fresh_database.hpp"
#include "process.hpp"
#include "refusing_port.hpp"
#include "table_checksum.hpp"

namespace fs = std::filesystem;
using evstore::test::required_env;
using evstore::test::run_process;

namespace {

// Runs the evstore command on a database, in `dir`, with PATH finding the client tools.
class runner {
 public:
  runner(const fs::path& dir, evstore::database_url url) : dir_(dir), url_(std::move(url)) {}

  evstore::test::process_result run(std::vector<std::string> args,
                                    std::map<std::string, std::string> env = {}) const {
    args.insert(args.begin(), EVSTORE_CLI);
    env.emplace("PATH", "/usr/bin:/bin");
    env.emplace("DATABASE_URL", url_.text_with_password());
    auto result = run_process(args, env, dir_);
    const auto output = result.out + result.err;
    EXPECT_EQ(evstore::redact(output, password_), output) << "password leaked: " << output;
    return result;
  }
  evstore::test::process_result run_ok(const std::vector<std::string>& args) const {
    auto result = run(args);
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    return result;
  }
  [[nodiscard]] evstore::test::table_digest digest() const {
    auto conn = evstore::connection::open(evstore::test::default_plugins(), url_, {});
    return evstore::test::digest_tables(conn);
  }

 private:
  fs::path dir_;
  evstore::database_url url_;
  std::string password_ = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
};

void seed(const runner& db, const std::string& seed) {
  db.run_ok({"migrate", "up"});
  db.run_ok({"seed", "--seed", seed, "--events", "80", "--media-per-event", "6"});
}

// `url` with a first host that refuses every connection, and read-write sessions asked for:
// only a tool that is given every host, and tries them in order, reaches the database.
evstore::database_url behind_a_refusing_host(evstore::database_url url,
                                             const evstore::test::refusing_port& refusing) {
  url.fallback_hosts = {{url.host, url.port}};
  url.host = "127.0.0.1";
  url.port = refusing.port();
  url.params.emplace_back("target_session_attrs", "read-write");
  return url;
}

}  // namespace

TEST(backup_postgresql, a_backup_restored_into_a_new_database_has_the_same_rows) {
  const evstore::test::temp_dir dir;
  evstore::test::table_digest before;
  {
    const evstore::test::fresh_postgresql_database original("backup_original");
    const runner db(dir.path(), original.url());
    seed(db, "3");
    before = db.digest();
    const auto backup = db.run_ok({"backup", "--output", "pg.backup"});
    EXPECT_NE(backup.out.find("backed up postgresql://"), std::string::npos) << backup.out;
    EXPECT_NE(backup.out.find(":***@"), std::string::npos) << backup.out;
  }  // the original database is dropped here
  EXPECT_EQ(fs::status(dir.path() / "pg.backup").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  const evstore::test::fresh_postgresql_database fresh("backup_restored");
  const runner db(dir.path(), fresh.url());
  const auto restore = db.run_ok({"restore", "--input", "pg.backup"});
  EXPECT_NE(restore.out.find("85 events, 487 media"), std::string::npos) << restore.out;
  EXPECT_EQ(db.digest(), before);
  const auto status = db.run_ok({"migrate", "status", "--exit-code"});
  EXPECT_NE(status.out.find("applied"), std::string::npos) << "the history came back too";
}

// pg_dump and pg_restore get the hosts in PGHOST and PGPORT and the session attributes in
// PGTARGETSESSIONATTRS: through a multi-host URL they fail over as evstore's own connections do.
TEST(backup_postgresql, backup_and_restore_fail_over_to_the_second_host_of_a_multi_host_url) {
  const evstore::test::temp_dir dir;
  const evstore::test::refusing_port refusing;
  const evstore::test::fresh_postgresql_database original("backup_multi_host");
  const runner source(dir.path(), behind_a_refusing_host(original.url(), refusing));
  seed(source, "5");
  const auto backup = source.run_ok({"backup", "--output", "pg.backup"});
  EXPECT_NE(backup.out.find("@127.0.0.1:" + std::to_string(refusing.port()) + ","),
            std::string::npos)
      << backup.out;

  const evstore::test::fresh_postgresql_database fresh("restore_multi_host");
  const runner target(dir.path(), behind_a_refusing_host(fresh.url(), refusing));
  target.run_ok({"restore", "--input", "pg.backup"});
  EXPECT_EQ(target.digest(), source.digest());
}

TEST(backup_postgresql, restore_into_a_database_with_data_exits_12_unless_forced) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database original("backup_source");
  const runner source(dir.path(), original.url());
  seed(source, "3");
  source.run_ok({"backup", "-o", "pg.backup"});

  const evstore::test::fresh_postgresql_database other("backup_target");
  const runner target(dir.path(), other.url());
  seed(target, "4");
  const auto theirs = target.digest();

  const auto refused = target.run({"restore", "-i", "pg.backup"});
  EXPECT_EQ(refused.exit_code, 12) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("holds events or media"), std::string::npos) << refused.err;
  EXPECT_EQ(target.digest(), theirs) << "nothing changed";

  target.run_ok({"restore", "-i", "pg.backup", "--force"});
  EXPECT_EQ(target.digest(), source.digest()) << "replaced, not merged";
}

TEST(backup_postgresql, a_backup_taken_during_four_writers_restores_to_a_consistent_state) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database busy("backup_busy");
  const runner source(dir.path(), busy.url());
  seed(source, "3");
  std::int64_t during = 0;
  std::int64_t committed = 0;
  {
    auto target = evstore::store::open(busy.url());
    evstore::test::concurrent_writers writers(*target, 4);
    ASSERT_TRUE(writers.wait_for(20, std::chrono::seconds(30))) << writers.first_error();
    during = writers.committed();
    source.run_ok({"backup", "-o", "busy.backup"});
    EXPECT_GT(writers.committed(), during) << "the writers went on during the backup";
    writers.stop();
    EXPECT_EQ(writers.first_error(), "");
    committed = writers.committed();
  }

  const evstore::test::fresh_postgresql_database fresh("backup_consistent");
  const runner restored(dir.path(), fresh.url());
  restored.run_ok({"restore", "-i", "busy.backup"});
  auto conn = evstore::connection::open(evstore::test::default_plugins(), fresh.url(), {});
  const auto report = evstore::test::check_consistency(conn);
  EXPECT_EQ(report.orphan_media, 0);
  EXPECT_EQ(report.incomplete_writers, 0);
  EXPECT_EQ((report.writer_events + report.writer_media) % 4, 0);
  EXPECT_GE(report.writer_events, during);
  EXPECT_LE(report.writer_events, committed);
}

TEST(backup_postgresql, missing_client_tools_exit_3_naming_where_they_were_sought) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database database("backup_no_tools");
  const runner db(dir.path(), database.url());
  db.run_ok({"migrate", "up"});
  const auto result =
      db.run({"backup", "-o", "x.backup"}, {{"EVSTORE_PG_BINDIR", "/nonexistent/bin"}});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("pg_dump not found in EVSTORE_PG_BINDIR (/nonexistent/bin)"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("postgresql-client-15"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir.path() / "x.backup"));
}

TEST(backup_postgresql, client_tools_of_another_major_version_are_refused_naming_both) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database database("backup_old_tools");
  const runner db(dir.path(), database.url());
  db.run_ok({"migrate", "up"});
  const auto bin = dir.path() / "old-bin";
  fs::create_directory(bin);
  for (const auto* tool : {"pg_dump", "pg_restore"}) {
    std::ofstream(bin / tool) << "#!/bin/sh\necho '" << tool
                              << " (PostgreSQL) 13.14 (Debian 13.14-1)'\n";
    fs::permissions(bin / tool, fs::perms::owner_all);
  }
  const auto result = db.run({"backup", "-o", "x.backup"}, {{"EVSTORE_PG_BINDIR", bin.string()}});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("pg_dump 13.14"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("PostgreSQL 15."), std::string::npos) << result.err;
}

TEST(backup_postgresql, a_missing_output_folder_exits_3) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database database("backup_bad_output");
  const runner db(dir.path(), database.url());
  db.run_ok({"migrate", "up"});
  const auto result = db.run({"backup", "-o", "/nonexistent/folder/x.backup"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.err.find("the folder /nonexistent/folder does not exist"), std::string::npos)
      << result.err;
}

TEST(backup_postgresql, a_failed_backup_leaves_no_file_and_hides_the_password) {
  const evstore::test::temp_dir dir;
  auto url = evstore::parse_database_url(required_env("EVSTORE_TEST_POSTGRESQL_URL"));
  url.database = "no_such_database";
  const runner db(dir.path(), url);
  const auto result = db.run({"backup", "-o", "x.backup"});
  EXPECT_EQ(result.exit_code, 5) << result.out << result.err;
  EXPECT_NE(result.err.find("no_such_database"), std::string::npos) << result.err;
  EXPECT_TRUE(fs::is_empty(dir.path())) << "no backup and no partial file";
}

TEST(backup_postgresql, restoring_a_file_that_is_not_a_postgresql_backup_exits_3) {
  const evstore::test::temp_dir dir;
  const evstore::test::fresh_postgresql_database database("backup_not_archive");
  const runner db(dir.path(), database.url());
  db.run_ok({"migrate", "up"});
  std::ofstream(dir.path() / "sqlite.backup") << std::string("SQLite format 3\0", 16);
  const auto result = db.run({"restore", "-i", "sqlite.backup"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("is not a PostgreSQL backup"), std::string::npos) << result.err;
}
