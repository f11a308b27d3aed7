// `evstore seed`: deterministic development data (docs/seed.md).

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <evstore/error.hpp>
#include <evstore/migrator.hpp>
#include <evstore/seed.hpp>
#include <evstore/seed_catalog.hpp>

#include "commands.hpp"

namespace evstore::cli {
namespace {

using clock = std::chrono::steady_clock;

struct seed_request {
  std::string profile;  // empty: the catalog's default
  std::int64_t events = 0;
  std::int64_t media_per_event = 0;
  std::uint64_t seed = 0;
  bool force = false;
  // Whether each was given on the command line (it then wins over the profile).
  CLI::Option* events_option = nullptr;
  CLI::Option* media_option = nullptr;
  CLI::Option* seed_option = nullptr;
};

double seconds(clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// "1,234,567": counts are easier to read with separators, whatever the locale.
std::string grouped(std::int64_t value) {
  auto digits = std::to_string(value < 0 ? -value : value);
  for (auto at = static_cast<std::ptrdiff_t>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(static_cast<std::size_t>(at), ",");
  }
  return value < 0 ? "-" + digits : digits;
}

std::string eta(double remaining_seconds) {
  const auto s = static_cast<long long>(remaining_seconds + 0.5);
  return s >= 60 ? fmt::format("{}m{:02}s", s / 60, s % 60) : fmt::format("{}s", s);
}

// Shows progress: on a terminal, one line redrawn in place with a bar, the rate and the time
// left; otherwise (a log, a pipe) a plain line every 2 seconds or 10 %, whichever comes first.
class progress_printer {
 public:
  explicit progress_printer(bool terminal) : terminal_(terminal) {}

  void operator()(const seed_progress& p) {
    const auto now = clock::now();
    const double fraction =
        p.rows_total > 0 ? static_cast<double>(p.rows_done) / static_cast<double>(p.rows_total)
                         : 1.0;
    const double elapsed = seconds(p.elapsed);
    const double rate = elapsed > 0 ? static_cast<double>(p.rows_done) / elapsed : 0;
    const double left = rate > 0 ? static_cast<double>(p.rows_total - p.rows_done) / rate : 0;
    const auto percent = static_cast<int>(fraction * 100);
    if (terminal_) {
      if (now - last_ < std::chrono::milliseconds(100) && p.rows_done < p.rows_total) {
        return;
      }
      constexpr int width = 30;
      const auto filled = static_cast<int>(fraction * width);
      std::cout << fmt::format("\r[{}{}] {:3}% {}/{} rows, {} rows/s, ETA {}\033[K",
                               std::string(static_cast<std::size_t>(filled), '#'),
                               std::string(static_cast<std::size_t>(width - filled), '.'), percent,
                               grouped(p.rows_done), grouped(p.rows_total),
                               grouped(static_cast<std::int64_t>(rate)), eta(left))
                << std::flush;
      drawn_ = true;
    } else {
      const int decile = percent / 10;
      if (decile <= decile_ && now - last_ < std::chrono::seconds(2)) {
        return;
      }
      decile_ = decile;
      std::cout << fmt::format("seed: {:3}% {}/{} rows, {} rows/s, ETA {}\n", percent,
                               grouped(p.rows_done), grouped(p.rows_total),
                               grouped(static_cast<std::int64_t>(rate)), eta(left))
                << std::flush;
    }
    last_ = now;
  }

  // Ends the redrawn line, so that the summary starts on a line of its own.
  void finish() const {
    if (drawn_) {
      std::cout << '\n';
    }
  }

 private:
  bool terminal_;
  bool drawn_ = false;
  int decile_ = 0;
  clock::time_point last_ = clock::now();
};

// Seeding needs the schema: say so plainly rather than fail on a missing table.
void require_migrated(const context& ctx, const database_url& url) {
  const auto plugins = ctx.discover_plugins();
  auto conn = ctx.connect(plugins);
  const auto report = migrator(conn, {}, {}).status();
  std::vector<std::string> pending;
  for (const auto& m : report.migrations) {
    if (m.id.scope == builtin_scope && m.state == migration_state::pending) {
      pending.push_back(m.id.to_string());
    }
  }
  if (!pending.empty()) {
    throw migration_error(fmt::format(
        "the database at {} is not migrated ({} of evstore's migrations pending: {}): run "
        "`evstore migrate up` first",
        url.redacted(), pending.size(), fmt::join(pending, ", ")));
  }
}

exit_code run_seed(const context& ctx, const seed_request& request) {
  if (const auto environment = ctx.config().get("EVSTORE_ENV");
      environment == "production" && !request.force) {
    throw config_error(fmt::format(
        "refusing to seed: EVSTORE_ENV is production (from {}), and seeding adds made-up events "
        "and media; pass --force to seed anyway",
        ctx.config().origin("EVSTORE_ENV")));
  }
  const auto catalog = seed_catalog::builtin();
  const auto& profile =
      catalog.profile(request.profile.empty() ? catalog.default_profile : request.profile);
  auto plan =
      catalog.plan(profile, request.seed_option->count() > 0 ? request.seed : catalog.default_seed);
  if (request.events_option->count() > 0) {
    plan.events = request.events;
  }
  if (request.media_option->count() > 0) {
    plan.media_per_event = request.media_per_event;
  }

  const auto url = ctx.config().database();
  require_migrated(ctx, url);
  auto target = ctx.open_store();

  std::size_t sample_media = 0;
  for (const auto& sample : plan.samples) {
    sample_media += sample.media.size();
  }
  std::cout << fmt::format(
                   "seeding {}: profile {}, seed {}: {} events with {} media each, and {} sample "
                   "events with {} media\n",
                   url.redacted(), profile.name, plan.seed, grouped(plan.events),
                   grouped(plan.media_per_event), plan.samples.size(), sample_media)
            << std::flush;

  progress_printer printer(::isatty(STDOUT_FILENO) == 1);
  seed_options options;
  options.on_progress = [&printer](const seed_progress& p) { printer(p); };
  const auto report = seed_database(*target, plan, options);
  printer.finish();

  const auto inserted = report.events_inserted + report.media_inserted;
  const double elapsed = seconds(report.elapsed);
  std::cout << fmt::format(
      "seeded {} events and {} media in {:.2f} s ({} rows/s); {} events (with {} media) "
      "already existed\n",
      grouped(report.events_inserted), grouped(report.media_inserted), elapsed,
      grouped(elapsed > 0 ? static_cast<std::int64_t>(static_cast<double>(inserted) / elapsed) : 0),
      grouped(report.events_existing), grouped(report.media_skipped));
  return exit_code::ok;
}

}  // namespace

void add_seed_command(CLI::App& app, command_action& chosen) {
  auto request = std::make_shared<seed_request>();
  auto* seed = app.add_subcommand(
      "seed",
      "Insert deterministic development data: events across all statuses with media along "
      "their timelines, plus the sample events every profile includes. The same seed gives "
      "the same rows on every backend; a second run adds nothing. Needs a migrated database.");
  seed->add_option("--profile", request->profile,
                   "small (default: 20 events x 10 media), demo (200 x 25) or load (2,000 x 50)");
  request->events_option =
      seed->add_option("--events", request->events, "Generated events (overrides the profile)")
          ->check(CLI::NonNegativeNumber);
  request->media_option = seed->add_option("--media-per-event", request->media_per_event,
                                           "Media per generated event (overrides the profile)")
                              ->check(CLI::NonNegativeNumber);
  request->seed_option = seed->add_option(
      "--seed", request->seed, "The seed of the generator (default 1): same seed, same rows");
  seed->add_flag("--force", request->force, "Seed even when EVSTORE_ENV is production");
  seed->callback([&chosen, request] {
    chosen = [request](const context& ctx) { return run_seed(ctx, *request); };
  });
}

}  // namespace evstore::cli
