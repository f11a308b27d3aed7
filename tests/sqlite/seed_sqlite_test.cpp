// `evstore seed` on SQLite files, run as a user runs it, and seed_database as a library.

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/seed.hpp>
#include <evstore/seed_catalog.hpp>
#include <evstore/testing.hpp>

#include "process.hpp"
#include "table_checksum.hpp"

namespace fs = std::filesystem;
using evstore::test::maintained_columns;
using evstore::test::run_process;

namespace {

// A folder to run in, with no DATABASE_URL in the environment: the default SQLite file.
struct sandbox {
  evstore::test::temp_dir dir;
  std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"}};

  evstore::test::process_result run(std::vector<std::string> args) const {
    args.insert(args.begin(), EVSTORE_CLI);
    return run_process(args, env, dir.path());
  }
  [[nodiscard]] evstore::database_url url(const std::string& file = "evstore.db") const {
    return evstore::parse_database_url("sqlite://" + (dir.path() / file).string());
  }
  [[nodiscard]] evstore::test::table_digest digest(
      maintained_columns maintained = maintained_columns::included,
      const std::string& file = "evstore.db") const {
    auto conn = evstore::connection::open(evstore::test::default_plugins(), url(file), {});
    return evstore::test::digest_tables(conn, maintained);
  }
};

// Runs the command and expects exit 0, showing its output otherwise.
evstore::test::process_result run_ok(const sandbox& box, const std::vector<std::string>& args) {
  auto result = box.run(args);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  return result;
}

// Runs the command with its output on a pseudo-terminal, as in an interactive shell, and
// returns what it wrote there.
std::string run_on_terminal(std::vector<std::string> args, const fs::path& cwd) {
  args.insert(args.begin(), EVSTORE_CLI);
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  auto environment = evstore::test::sanitizer_environment();
  environment.emplace_back("PATH=/usr/bin:/bin");
  std::vector<char*> envp;
  for (auto& entry : environment) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty failed";
    return {};
  }
  if (pid == 0) {
    if (chdir(cwd.c_str()) == 0) {
      execve(argv[0], argv.data(), envp.data());
    }
    _exit(127);
  }
  std::string output;
  std::array<char, 4096> buffer{};
  for (;;) {
    const auto got = read(terminal, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {  // EIO once the child has exited and closed the terminal
      break;
    }
    output.append(buffer.data(), static_cast<std::size_t>(got));
  }
  close(terminal);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  return output;
}

}  // namespace

TEST(seed_sqlite, the_small_profile_seeds_events_and_media_with_a_summary) {
  const sandbox box;
  run_ok(box, {"migrate", "up"});
  const auto result = run_ok(box, {"seed"});
  EXPECT_NE(result.out.find("profile small, seed 1"), std::string::npos) << result.out;
  EXPECT_TRUE(std::regex_search(
      result.out, std::regex(R"(seeded 25 events and 207 media in [0-9.]+ s \([0-9,]+ rows/s\); )"
                             R"(0 events \(with 0 media\) already existed)")))
      << result.out;
  const auto digest = box.digest();
  EXPECT_EQ(digest.events, 25);  // 20 generated and 5 samples
  EXPECT_EQ(digest.media, 207);  // 20 x 10 and 7 sample media
}

TEST(seed_sqlite, seeding_twice_adds_no_rows) {
  const sandbox box;
  run_ok(box, {"migrate", "up"});
  run_ok(box, {"seed", "--events", "30", "--media-per-event", "4"});
  const auto first = box.digest();
  const auto again = run_ok(box, {"seed", "--events", "30", "--media-per-event", "4"});
  EXPECT_NE(again.out.find("seeded 0 events and 0 media"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("35 events (with 127 media) already existed"), std::string::npos)
      << again.out;
  EXPECT_EQ(box.digest(), first) << "not a row added or changed, created_at included";
}

TEST(seed_sqlite, a_larger_run_adds_only_the_new_events) {
  const sandbox box;
  run_ok(box, {"migrate", "up"});
  run_ok(box, {"seed", "--events", "10", "--media-per-event", "3"});
  const auto more = run_ok(box, {"seed", "--events", "15", "--media-per-event", "3"});
  EXPECT_NE(more.out.find("seeded 5 events and 15 media"), std::string::npos) << more.out;
  const auto digest = box.digest();
  EXPECT_EQ(digest.events, 20);
  EXPECT_EQ(digest.media, 15 * 3 + 7);
}

TEST(seed_sqlite, different_seeds_give_different_rows_and_the_same_seed_the_same) {
  const sandbox box;
  for (const auto* file : {"a.db", "b.db", "c.db"}) {
    run_ok(box, {"--database-url", std::string("sqlite://") + file, "migrate", "up"});
  }
  run_ok(box, {"--database-url", "sqlite://a.db", "seed", "--seed", "1", "--events", "40"});
  run_ok(box, {"--database-url", "sqlite://b.db", "seed", "--seed", "2", "--events", "40"});
  run_ok(box, {"--database-url", "sqlite://c.db", "seed", "--seed", "1", "--events", "40"});
  const auto a = box.digest(maintained_columns::excluded, "a.db");
  const auto b = box.digest(maintained_columns::excluded, "b.db");
  const auto c = box.digest(maintained_columns::excluded, "c.db");
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.media, b.media);
  EXPECT_NE(a.checksum, b.checksum);
  EXPECT_EQ(a, c);
}

TEST(seed_sqlite, refuses_a_production_database_with_exit_3_unless_forced) {
  sandbox box;
  run_ok(box, {"migrate", "up"});
  box.env["EVSTORE_ENV"] = "production";
  const auto refused = box.run({"seed"});
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("EVSTORE_ENV is production"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(box.digest().events, 0);

  run_ok(box, {"seed", "--force"});
  EXPECT_EQ(box.digest().events, 25);
}

TEST(seed_sqlite, an_unmigrated_database_exits_7_saying_to_run_migrate_up) {
  const sandbox box;
  const auto result = box.run({"seed"});
  EXPECT_EQ(result.exit_code, 7) << result.out << result.err;
  EXPECT_NE(result.err.find("run `evstore migrate up` first"), std::string::npos) << result.err;
}

TEST(seed_sqlite, an_unknown_profile_exits_3_naming_the_profiles) {
  const sandbox box;
  run_ok(box, {"migrate", "up"});
  const auto result = box.run({"seed", "--profile", "huge"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("demo, load, small"), std::string::npos) << result.err;
}

TEST(seed_sqlite, progress_off_a_terminal_is_plain_lines_then_a_summary) {
  const sandbox box;
  run_ok(box, {"migrate", "up"});
  // 400 x (1 + 9) rows in batches of about 1,000: several batches, each past a 10 % step.
  const auto result = run_ok(box, {"seed", "--events", "400", "--media-per-event", "9"});
  EXPECT_EQ(result.out.find('\r'), std::string::npos) << "no redrawn line off a terminal";
  const std::regex progress(R"(^seed: +[0-9]+% [0-9,]+/4,012 rows, [0-9,]+ rows/s, ETA [0-9ms]+$)");
  int progress_lines = 0;
  std::string last;
  std::istringstream lines(result.out);
  for (std::string line; std::getline(lines, line);) {
    progress_lines += std::regex_match(line, progress) ? 1 : 0;
    last = line;
  }
  EXPECT_GE(progress_lines, 3) << result.out;
  EXPECT_NE(result.out.find("seed: 100% 4,012/4,012 rows"), std::string::npos) << result.out;
  EXPECT_EQ(last.rfind("seeded 405 events and 3,607 media in ", 0), 0U) << result.out;
}

TEST(seed_sqlite, progress_on_a_terminal_is_one_line_redrawn_with_a_bar) {
  const sandbox box;
  run_ok(box, {"migrate", "up"});
  const auto output =
      run_on_terminal({"seed", "--events", "400", "--media-per-event", "9"}, box.dir.path());
  EXPECT_NE(output.find("\r["), std::string::npos) << "redrawn from the line's start: " << output;
  EXPECT_NE(output.find("] 100% 4,012/4,012 rows"), std::string::npos) << output;
  EXPECT_NE(output.find("\033[K"), std::string::npos) << "clears the rest of the line";
  EXPECT_EQ(output.find("seed: "), std::string::npos) << "no plain progress lines: " << output;
  EXPECT_NE(output.find("\nseeded 405 events and 3,607 media in "), std::string::npos)
      << "the summary on a line of its own: " << output;
}

TEST(seed_sqlite, seed_database_inserts_an_event_with_all_its_media_or_not_at_all) {
  auto store = evstore::testing::memory_store();
  auto plan = evstore::seed_catalog::builtin().plan({"test", "", 12, 5}, 99);
  evstore::seed_options options;
  options.batch_rows = 7;  // about one generated event (1 + 5 rows) per transaction
  std::vector<std::int64_t> done;
  options.on_progress = [&](const evstore::seed_progress& p) { done.push_back(p.rows_done); };
  const auto report = evstore::seed_database(*store, plan, options);
  EXPECT_EQ(report.events_inserted, 12 + 5);
  EXPECT_EQ(report.media_inserted, 12 * 5 + 7);
  EXPECT_EQ(report.rows_done, report.rows_total);
  ASSERT_GE(done.size(), 6U) << "many batches";
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
  EXPECT_EQ(done.back(), report.rows_total);
  for (std::int64_t i = 0; i < plan.events; ++i) {
    const auto item = evstore::generate_seed_item(plan, i);
    EXPECT_EQ(store->media().count_by_event(*item.event.id), 5);
  }
  const auto again = evstore::seed_database(*store, plan);
  EXPECT_EQ(again.events_inserted + again.media_inserted, 0);
  EXPECT_EQ(again.events_existing, 17);
}
