// evstore-bench: the same work through evstore's public API (and, with --pgbouncer-url,
// evstore through PgBouncer; with --standby-url, evstore with its reads on a standby), raw
// libpq / raw sqlite3 and plain SOCI, side by side in one run.
// docs/performance.md says how to run it and how to read it.

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <evstore/redact.hpp>

#include "walk.hpp"
#include "workloads.hpp"

namespace evstore::bench {
namespace {

// Tiny sizes: the whole run takes a few seconds per backend (the smoke tests).
sizes smoke_sizes() {
  sizes s;
  s.creates = 20;
  s.w2_events = 20;
  s.w2_media = 2000;
  s.batch = 100;
  s.pages = 200;
  s.lookups = 200;
  s.read_events = 20;
  s.w5_duration = std::chrono::milliseconds(200);
  return s;
}

struct options {
  std::string backend = "both";
  std::string database_url;
  std::string pgbouncer_url;
  std::string standby_url;
  std::vector<std::string> workloads{"W1", "W2", "W3", "W4", "W5"};
  std::vector<std::size_t> scales;
  std::size_t walk = 0;
  bool smoke = false;
  int repeats = 1;
  std::size_t batch = 1000;
  double w5_seconds = 10;
  std::filesystem::path sqlite_dir;
};

void print(const workload_result& result, std::vector<workload_result>& results) {
  std::cout << bench_line(result) << std::endl;
  results.push_back(result);
}

void run_backend(backend_kind kind, const options& o, const sizes& amounts,
                 std::vector<workload_result>& results) {
  const auto server =
      kind == backend_kind::postgresql ? parse_database_url(o.database_url) : database_url{};
  const auto optional_url = [&](const std::string& text) {
    return kind == backend_kind::postgresql && !text.empty()
               ? std::optional<database_url>(parse_database_url(text))
               : std::nullopt;
  };
  bench_database db(kind, server, o.sqlite_dir, optional_url(o.pgbouncer_url),
                    optional_url(o.standby_url));
  workloads run(db, amounts);
  const std::set<std::string> chosen(o.workloads.begin(), o.workloads.end());
  if (chosen.contains("W1")) {
    print(run.creates(), results);
  }
  if (chosen.contains("W2")) {
    print(run.batch_inserts(), results);
  }
  if (chosen.contains("W3") || chosen.contains("W4") || chosen.contains("W5")) {
    run.load_read_dataset(amounts.read_events);
    if (chosen.contains("W3")) {
      print(run.timelines(), results);
    }
    if (chosen.contains("W4")) {
      print(run.lookups(), results);
    }
    if (chosen.contains("W5")) {
      print(run.mixed(), results);
    }
  }
  for (const auto rows : o.scales) {
    std::cerr << fmt::format("evstore-bench: {}: loading {} media rows\n", to_string(kind), rows);
    run.load_read_dataset(rows / media_per_event);
    print(run.timelines(), results);
    print(run.lookups(), results);
  }
  if (o.walk > 0) {
    std::cerr << fmt::format("evstore-bench: {}: walking a timeline of {} media\n", to_string(kind),
                             o.walk);
    walk_timeline(db, o.walk, std::cout);
  }
}

int run(int argc, char** argv) {
  options o;
  o.sqlite_dir = std::filesystem::temp_directory_path() / fmt::format("evstore-bench-{}", getpid());
  CLI::App app{
      "evstore-bench: evstore against raw libpq / raw sqlite3 and plain SOCI, doing the "
      "same work in the same run (docs/performance.md)"};
  app.add_option("--backend", o.backend, "sqlite, postgresql or both")
      ->check(CLI::IsMember({"sqlite", "postgresql", "both"}))
      ->capture_default_str();
  app.add_option("--database-url", o.database_url,
                 "PostgreSQL server to create the benchmark's database on (needs CREATEDB)")
      ->envname("EVSTORE_TEST_POSTGRESQL_URL");
  app.add_option("--pgbouncer-url", o.pgbouncer_url,
                 "PostgreSQL only: also run evstore through this PgBouncer (transaction mode, "
                 "in front of the --database-url server), on the same database, with "
                 "pooler=transaction; reported as pgbouncer and pgbouncer_ratio");
  app.add_option("--standby-url", o.standby_url,
                 "PostgreSQL only: also run evstore with this streaming standby of the "
                 "--database-url server as its read replica, each call a request of its own; "
                 "reported as replica, replica_ratio and standby_share");
  app.add_option("--workloads", o.workloads, "comma-separated subset of W1,W2,W3,W4,W5")
      ->delimiter(',')
      ->check(CLI::IsMember({"W1", "W2", "W3", "W4", "W5"}))
      ->capture_default_str();
  app.add_option("--scale", o.scales,
                 "also run W3 and W4 on a table of this many media rows (comma-separated, "
                 "multiples of 100; e.g. 100000,10000000)")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{media_per_event}, std::size_t{1} << 32U));
  app.add_option("--walk", o.walk,
                 "also walk one event's timeline of this many media page by page through "
                 "evstore and print the resident memory (a MEMORY line); e.g. 100000")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
  app.add_flag("--smoke", o.smoke, "tiny sizes: a few seconds per backend");
  app.add_option("--repeat", o.repeats, "runs of each workload per contender; medians reported")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--batch-size", o.batch, "W2: media per add_many call")
      ->check(CLI::Range(1, 6000))
      ->capture_default_str();
  app.add_option("--w5-seconds", o.w5_seconds, "W5: duration of the timed part")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--sqlite-dir", o.sqlite_dir, "where the SQLite database file is made")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto amounts = o.smoke ? smoke_sizes() : sizes{};
  amounts.repeats = o.repeats;
  if (!o.smoke) {
    amounts.batch = o.batch;
    amounts.w5_duration = std::chrono::milliseconds(static_cast<long long>(o.w5_seconds * 1000));
  }
  std::vector<backend_kind> backends;
  if (o.backend != "postgresql") {
    backends.push_back(backend_kind::sqlite);
  }
  if (o.backend != "sqlite") {
    if (o.database_url.empty()) {
      std::cerr << "evstore-bench: no PostgreSQL server: give --database-url or set "
                   "EVSTORE_TEST_POSTGRESQL_URL (or use --backend sqlite)\n";
      return 2;
    }
    backends.push_back(backend_kind::postgresql);
  }
  for (const auto& [name, url] :
       {std::pair{"--pgbouncer-url", o.pgbouncer_url}, std::pair{"--standby-url", o.standby_url}}) {
    if (!url.empty() && o.backend == "sqlite") {
      std::cerr << "evstore-bench: " << name
                << " needs the PostgreSQL backend (--backend postgresql or both)\n";
      return 2;
    }
  }
  // Parsed once here, so that a malformed URL stops the run before it starts (the parser's
  // message names a position, never the URL's text) and parses wherever it is used later.
  for (const auto& [name, url] :
       {std::pair{"--database-url", o.database_url}, std::pair{"--pgbouncer-url", o.pgbouncer_url},
        std::pair{"--standby-url", o.standby_url}}) {
    try {
      if (!url.empty()) {
        static_cast<void>(parse_database_url(url));
      }
    } catch (const std::exception& e) {
      std::cerr << "evstore-bench: " << name << ": " << e.what() << "\n";
      return 2;
    }
  }
  // Slow-query warnings and the like would land between the BENCH lines.
  spdlog::set_level(spdlog::level::err);
  std::cout << fmt::format(
      "# evstore-bench: build {}, {} repeat(s); ratio = evstore throughput / "
      "raw throughput (higher is better, 1.0 = as fast as raw){}{}\n",
      EVSTORE_BENCH_BUILD_TYPE, o.repeats,
      o.pgbouncer_url.empty() ? ""
                              : "; pgbouncer_ratio = evstore through PgBouncer / evstore direct",
      o.standby_url.empty() ? ""
                            : "; replica_ratio = evstore with reads on the standby / evstore "
                              "direct, standby_share = reads the standby served");
  std::vector<workload_result> results;
  int status = 0;
  for (const auto kind : backends) {
    try {
      run_backend(kind, o, amounts, results);
    } catch (const std::exception& e) {
      std::string message = e.what();
      for (const auto& url : {o.database_url, o.pgbouncer_url, o.standby_url}) {
        if (!url.empty()) {
          message = redact(message, parse_database_url(url).password);
        }
      }
      std::cerr << "evstore-bench: " << to_string(kind) << ": " << message << "\n";
      status = 1;
      break;
    }
  }
  // The database file is gone already; the folder goes too if it is empty (never anything
  // else: --sqlite-dir may name a folder that holds other files).
  std::error_code ignored;
  std::filesystem::remove(o.sqlite_dir, ignored);
  if (status == 0) {
    std::cout << "\n" << table(results);
  }
  return status;
}

}  // namespace
}  // namespace evstore::bench

int main(int argc, char** argv) {
  return evstore::bench::run(argc, argv);
}
