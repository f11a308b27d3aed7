#include "evstore/health.hpp"

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "evstore/connection.hpp"
#include "evstore/error.hpp"
#include "evstore/migrator.hpp"
#include "short_reason.hpp"

namespace evstore {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// ISO 8601, UTC, with microseconds: 2024-05-01T12:34:56.123456Z.
std::string iso8601_utc(std::chrono::system_clock::time_point at) {
  const auto since_epoch = duration_cast<microseconds>(at.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto micros = (since_epoch - seconds).count();
  const std::time_t whole = seconds.count();
  std::tm parts{};
  gmtime_r(&whole, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     micros);
}

// The time left until `deadline` in whole milliseconds, rounded down so that no wait ends
// after it. @throws timeout_error when none is left.
milliseconds left_until(clock::time_point deadline, milliseconds timeout) {
  const auto left = std::chrono::floor<milliseconds>(deadline - clock::now());
  if (left <= milliseconds::zero()) {
    throw timeout_error(fmt::format("timed out after {} ms", timeout.count()));
  }
  return left;
}

}  // namespace

const char* to_string(health_status status) noexcept {
  switch (status) {
    case health_status::up:
      return "up";
    case health_status::degraded:
      return "degraded";
    case health_status::down:
      return "down";
  }
  return "unknown";
}

nlohmann::json health_report::to_json() const {
  using nlohmann::json;
  json out = json::object();
  out["status"] = to_string(status);
  out["reason"] = reason.empty() ? json(nullptr) : json(reason);
  out["backend"] = backend;
  out["pooler"] = to_string(pooler);
  out["server_version"] = server_version.empty() ? json(nullptr) : json(server_version);
  // Microseconds over 1000 have at most three decimals, and JSON numbers print shortest.
  out["latency_ms"] =
      latency ? json(static_cast<double>(latency->count()) / 1000.0) : json(nullptr);
  if (schema) {
    out["schema"] = {{"current", schema->current.empty() ? json(nullptr) : json(schema->current)},
                     {"latest", schema->latest.empty() ? json(nullptr) : json(schema->latest)},
                     {"pending", schema->pending}};
  } else {
    out["schema"] = nullptr;
  }
  out["pool"] = {{"size", pool.size},
                 {"max", pool.max_size},
                 {"idle", pool.idle},
                 {"in_use", pool.in_use},
                 {"waiting", pool.waiting}};
  out["replicas"] = json::array();
  for (const auto& r : replicas) {
    out["replicas"].push_back({{"name", r.name},
                               {"state", to_string(r.state)},
                               {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)},
                               {"lag_bytes", r.lag_bytes},
                               {"lag_ms", r.lag.count()},
                               {"reads", r.reads}});
  }
  out["checked_at"] = iso8601_utc(checked_at);
  return out;
}

struct health_checker::state {
  state(connection_pool& from, const database_url& url, std::string name, health_options with,
        std::vector<migration> app_migrations)
      : pool(from),
        location(url),
        backend(std::move(name)),
        options(with),
        app(std::move(app_migrations)) {}

  // Runs one check on the worker thread and publishes it, unless a caller has already
  // answered for it with a timeout.
  void run(std::uint64_t generation, clock::time_point deadline,
           std::chrono::system_clock::time_point checked_at) {
    const auto start = clock::now();
    health_report report;
    try {
      report = perform(deadline, checked_at);
      add_replicas(report, deadline);
    } catch (...) {
      // Nothing may escape a thread; perform() catches what the database throws.
      report.backend = backend;
      report.pooler = options.pooler;
      report.checked_at = checked_at;
      report = down(std::move(report), "error: the check failed unexpectedly");
    }
    const auto took = duration_cast<microseconds>(clock::now() - start);
    std::lock_guard lock(mutex);
    if (answered < generation) {
      publish(std::move(report), generation, took, false);
    } else {
      spdlog::info("health check: a check finished {} ms after its caller gave up",
                   duration_cast<milliseconds>(took).count());
    }
    running = false;
    borrowing = false;
    changed.notify_all();
  }

  // The check itself: no lock held, except briefly to say the pool is no longer in use.
  health_report perform(clock::time_point deadline,
                        std::chrono::system_clock::time_point checked_at) {
    health_report report;
    report.backend = backend;
    report.pooler = options.pooler;
    report.checked_at = checked_at;
    connection_pool::lease lease;
    milliseconds ping_budget{};
    try {
      lease = pool.acquire_within(left_until(deadline, options.timeout));
      // A deadline that passed while the pool handed the connection over is still a wait for
      // a connection: nothing was sent on it, so it goes back unharmed. Discarding it as a
      // query that timed out would, for an in-memory SQLite database, discard the database.
      ping_budget = left_until(deadline, options.timeout);
      enter("waiting for the database to answer");
    } catch (const timeout_error&) {
      report.pool = pool.metrics();
      done_borrowing();
      return down(std::move(report),
                  fmt::format("timed out after {} ms waiting for a pooled connection",
                              options.timeout.count()));
    } catch (const std::exception& e) {
      report.pool = pool.metrics();
      done_borrowing();
      return down(std::move(report), describe(e));
    }
    report.pool = pool.metrics();
    done_borrowing();

    // An in-memory SQLite database lives in its one connection: discarding that would
    // discard the database, so a failed check never does.
    const bool keep = lease->backend().single_connection_database(location);
    const auto discard = [&] {
      if (!keep) {
        lease.mark_broken();
      }
    };
    try {
      report.latency = lease->backend().ping(lease->session(), ping_budget);
      enter("reading the server version");
      report.server_version = lease->server_version();
      enter("reading the migration history");
      migrator engine(*lease, app, {});
      report.schema = summarize(engine.status());
    } catch (const timeout_error&) {
      discard();  // a query may still be in flight on it
      return down(std::move(report),
                  fmt::format("timed out after {} ms waiting for the database to answer",
                              options.timeout.count()));
    } catch (const error& e) {
      if (e.category() == error_category::connection) {
        discard();
      }
      return down(std::move(report), describe(e));
    } catch (const std::exception& e) {
      discard();
      return down(std::move(report), describe(e));
    }
    assess(report);
    return report;
  }

  static health_schema summarize(const migration_report& migrations) {
    health_schema schema;
    for (const auto& m : migrations.migrations) {
      switch (m.state) {
        case migration_state::applied:
        case migration_state::modified:
          schema.current = m.id.to_string();
          schema.latest = m.id.to_string();
          break;
        case migration_state::pending:
          ++schema.pending;
          schema.latest = m.id.to_string();
          break;
        case migration_state::missing:
          ++schema.drifted;
          schema.current = m.id.to_string();
          break;
      }
      if (m.state == migration_state::modified) {
        ++schema.drifted;
      }
    }
    return schema;
  }

  // up, or degraded with every reason there is.
  void assess(health_report& report) const {
    std::vector<std::string> reasons;
    const auto& schema = *report.schema;
    if (schema.pending > 0) {
      reasons.push_back(fmt::format("{} migration{} pending (latest {})", schema.pending,
                                    schema.pending == 1 ? "" : "s", schema.latest));
    }
    if (schema.drifted > 0) {
      reasons.push_back(fmt::format("{} applied migration{} modified or missing", schema.drifted,
                                    schema.drifted == 1 ? "" : "s"));
    }
    if (options.degraded_waiters > 0 && report.pool.waiting >= options.degraded_waiters) {
      reasons.push_back(fmt::format("{} caller{} waiting for a pooled connection",
                                    report.pool.waiting, report.pool.waiting == 1 ? "" : "s"));
    }
    report.status = reasons.empty() ? health_status::up : health_status::degraded;
    report.reason = fmt::format("{}", fmt::join(reasons, "; "));
  }

  // The read replicas, each as its last check saw it: one that is not up degrades a report
  // that is up, since reads still succeed on the primary.
  void add_replicas(health_report& report, clock::time_point deadline) const {
    if (!options.replicas) {
      return;
    }
    const auto left =
        std::max(milliseconds(0), std::chrono::floor<milliseconds>(deadline - clock::now()));
    report.replicas = options.replicas(left);
    if (report.status == health_status::down) {
      return;
    }
    for (const auto& r : report.replicas) {
      if (r.state == replica_state::up) {
        continue;
      }
      report.status = health_status::degraded;
      report.reason += fmt::format("{}read replica {} is {}: {}", report.reason.empty() ? "" : "; ",
                                   r.name, to_string(r.state), r.reason);
    }
  }

  static health_report down(health_report report, std::string reason) {
    report.status = health_status::down;
    report.reason = std::move(reason);
    return report;
  }

  // A failure as "<category> error: <message>": one line, short, never the URL or password.
  std::string describe(const std::exception& failure) const {
    const auto* known = dynamic_cast<const error*>(&failure);
    return detail::short_reason(
        known != nullptr ? fmt::format("{} error: {}", to_string(known->category()), known->what())
                         : fmt::format("error: {}", failure.what()),
        location, "the database");
  }

  // Says what the check is doing, for the reason given if it times out.
  void enter(const char* what) {
    std::lock_guard lock(mutex);
    phase = what;
  }

  void done_borrowing() {
    std::lock_guard lock(mutex);
    borrowing = false;
    changed.notify_all();
  }

  // Under the lock: makes `report` the answer for `generation`, and counts it.
  void publish(health_report report, std::uint64_t generation, microseconds took, bool timed_out) {
    const auto status = static_cast<std::size_t>(report.status);
    ++stats.checks[status];
    stats.timeouts += timed_out ? 1 : 0;
    stats.duration_total += took;
    const auto& bounds = health_statistics::duration_buckets;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      if (took <= bounds[i]) {
        ++stats.duration_histogram[i];
      }
    }
    cached = std::move(report);
    fresh_until = clock::now() + options.cache_for;
    answered = generation;
    changed.notify_all();
  }

  // Under the lock: the answer for a caller whose time ran out while `generation` ran.
  health_report publish_timeout(std::uint64_t generation, std::string reason,
                                std::chrono::system_clock::time_point checked_at) {
    health_report report;
    report.backend = backend;
    report.pooler = options.pooler;
    report.checked_at = checked_at;
    report.pool = pool.metrics();
    report = down(std::move(report), std::move(reason));
    publish(report, generation, duration_cast<microseconds>(options.timeout), true);
    return report;
  }

  connection_pool& pool;
  const database_url location;  // single_connection_database asks; kept out of reasons
  const std::string backend;
  const health_options options;
  const std::vector<migration> app;

  mutable std::mutex mutex;
  std::condition_variable changed;
  // Guarded by mutex:
  std::optional<health_report> cached;
  clock::time_point fresh_until{};
  bool running = false;        // a worker thread is checking
  bool borrowing = false;      // ... and may still use `pool`
  std::uint64_t started = 0;   // checks started
  std::uint64_t answered = 0;  // the last check answered (by its result or a timeout)
  clock::time_point running_since{};
  clock::time_point running_deadline{};
  std::chrono::system_clock::time_point running_checked_at{};
  const char* phase = "";  // what the running check is doing
  std::thread worker;
  health_statistics stats;
};

health_checker::health_checker(connection_pool& pool, const database_url& url,
                               std::string backend_name, health_options options,
                               std::vector<migration> app) {
  if (options.timeout <= milliseconds::zero()) {
    throw config_error(fmt::format("health check: the timeout must be positive (got {} ms)",
                                   options.timeout.count()));
  }
  if (options.cache_for < milliseconds::zero()) {
    throw config_error(fmt::format("health check: the cache time must not be negative (got {} ms)",
                                   options.cache_for.count()));
  }
  state_ = std::make_shared<state>(pool, url, std::move(backend_name), options, std::move(app));
}

health_checker::~health_checker() {
  std::unique_lock lock(state_->mutex);
  // The pool may go once this checker has: wait until no check uses it (acquire_within is
  // bounded by the timeout).
  state_->changed.wait(lock, [this] { return !state_->borrowing; });
  std::thread worker = std::move(state_->worker);
  const bool running = state_->running;
  lock.unlock();
  if (worker.joinable()) {
    if (running) {
      // Stuck on a database that does not answer: it holds its own share of the state and
      // its lease, and ends when the database answers or the connection breaks.
      worker.detach();
    } else {
      worker.join();
    }
  }
}

health_report health_checker::check() {
  state& s = *state_;
  std::unique_lock lock(s.mutex);
  const auto now = clock::now();
  if (s.cached && now < s.fresh_until) {
    ++s.stats.cache_hits;
    return *s.cached;
  }
  if (!s.running) {
    if (s.worker.joinable()) {
      s.worker.join();  // finished: it cleared `running` last
    }
    const auto generation = ++s.started;
    s.running = true;
    s.borrowing = true;
    s.running_since = now;
    s.running_deadline = now + s.options.timeout;
    s.running_checked_at = std::chrono::system_clock::now();
    s.phase = "waiting for a pooled connection";
    try {
      s.worker = std::thread(
          [shared = state_, generation, deadline = s.running_deadline,
           checked_at = s.running_checked_at] { shared->run(generation, deadline, checked_at); });
    } catch (const std::system_error& e) {
      s.running = false;
      s.borrowing = false;
      return s.publish_timeout(generation, fmt::format("cannot start a check: {}", e.what()),
                               s.running_checked_at);
    }
  } else if (s.answered >= s.started) {
    // The running check has been answered for already (it timed out) and is still stuck.
    return s.publish_timeout(
        s.started,
        fmt::format("timed out: the database has not answered a check started {} ms ago",
                    duration_cast<milliseconds>(now - s.running_since).count()),
        std::chrono::system_clock::now());
  }
  const auto generation = s.started;
  s.changed.wait_until(lock, s.running_deadline, [&] { return s.answered >= generation; });
  if (s.answered >= generation) {
    return *s.cached;
  }
  return s.publish_timeout(
      generation, fmt::format("timed out after {} ms {}", s.options.timeout.count(), s.phase),
      s.running_checked_at);
}

health_statistics health_checker::statistics() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

const health_options& health_checker::options() const noexcept {
  return state_->options;
}

}  // namespace evstore
