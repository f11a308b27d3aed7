#include "replica_set.hpp"

#include <algorithm>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "evstore/detail/bindings.hpp"
#include "evstore/detail/connection_source.hpp"
#include "evstore/error.hpp"
#include "rows.hpp"
#include "short_reason.hpp"

namespace evstore::detail {

namespace {

using std::chrono::milliseconds;

// How long a read waits between two looks at a replica's replay position while it waits for
// its caller's write to arrive there.
constexpr auto replay_poll = std::chrono::microseconds(500);

// How long one check may take before its connection is interrupted and the replica (or the
// primary) counts as down: several check intervals, and never less than a second.
milliseconds check_timeout(const replica_options& options) {
  return std::max(milliseconds(1000), options.check_interval * 10);
}

// host:port/database: names a replica in reports and metrics without its credentials.
std::string name_of(const database_url& url) {
  const auto host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return url.port ? fmt::format("{}:{}/{}", host, *url.port, url.database)
                  : fmt::format("{}/{}", host, url.database);
}

long long query_number(connection& conn, const std::string& sql) {
  long long answer = 0;
  translating(conn, [&] {
    bindings none;
    answer = query_integer(conn, sql, none);
  });
  return answer;
}

}  // namespace

std::uint64_t write_position(connection& conn, const dialect& sql) {
  return static_cast<std::uint64_t>(std::max(0LL, query_number(conn, sql.write_position())));
}

struct replica_set::replica {
  database_url url;  // kept out of reasons
  std::string name;
  connection_pool::factory open;
  std::unique_ptr<connection_pool> pool;
  std::optional<connection> monitor;  // the monitor thread's own

  std::atomic<bool> in_rotation{false};
  causal_position replayed;
  std::atomic<std::uint64_t> reads{0};

  // Guarded by replica_set::mutex_.
  replica_state state = replica_state::unknown;
  std::string reason = "not checked yet";
  std::uint64_t lag_bytes = 0;
  milliseconds lag{0};
};

replica_set::replica_set(std::vector<member> members, connection_pool::factory open_primary,
                         const dialect& sql, replica_options options, watchdog& watchdog)
    : sql_(sql), options_(options), watchdog_(watchdog), open_primary_(std::move(open_primary)) {
  if (options_.check_interval <= milliseconds::zero()) {
    throw config_error("the replica check interval must be more than 0 ms");
  }
  for (auto& m : members) {
    auto r = std::make_unique<replica>();
    r->name = name_of(m.url);
    r->url = m.url;
    r->open = m.open;
    r->pool = std::make_unique<connection_pool>(std::move(m.open), m.pool);
    replicas_.push_back(std::move(r));
  }
  thread_ = std::thread([this] { monitor(); });
}

replica_set::~replica_set() {
  close();
}

void replica_set::close() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  // The monitor's own connections are free to close once it has stopped.
  primary_.reset();
  for (auto& r : replicas_) {
    r->in_rotation.store(false);
    r->monitor.reset();
    r->pool->close();
  }
}

// A replica's connection is waited for, and its position polled, no longer than a check may
// take: past that, the primary answers sooner than a replica that has stopped answering.
std::optional<replica_set::pick> replica_set::choose(std::uint64_t position) {
  const auto count = replicas_.size();
  const auto start = next_.fetch_add(1, std::memory_order_relaxed);
  std::optional<std::size_t> behind;
  for (std::size_t i = 0; i < count; ++i) {
    const auto index = (start + i) % count;
    const auto& r = *replicas_[index];
    if (!r.in_rotation.load(std::memory_order_relaxed)) {
      continue;
    }
    if (r.replayed.get() >= position) {
      try {
        return pick{index, r.pool->acquire_within(check_timeout(options_))};
      } catch (const error& e) {
        failed(index, e.what());
        return std::nullopt;
      }
    }
    if (!behind) {
      behind = index;
    }
  }
  if (!behind || options_.read_your_writes_wait <= milliseconds::zero()) {
    return std::nullopt;
  }
  auto& r = *replicas_[*behind];
  connection_pool::lease lease;
  try {
    lease = r.pool->acquire_within(check_timeout(options_));
    if (wait_for(r, *lease, position)) {
      return pick{*behind, std::move(lease)};
    }
  } catch (const error& e) {
    if (lease) {
      lease.mark_broken();
    }
    failed(*behind, e.what());
  }
  return std::nullopt;
}

bool replica_set::wait_for(replica& r, connection& conn, std::uint64_t position) {
  const auto until = std::chrono::steady_clock::now() + options_.read_your_writes_wait;
  for (;;) {
    r.replayed.advance(
        static_cast<std::uint64_t>(std::max(0LL, bounded_query(conn, sql_.replay_position()))));
    if (r.replayed.get() >= position) {
      return true;
    }
    if (std::chrono::steady_clock::now() + replay_poll > until) {
      return false;
    }
    std::this_thread::sleep_for(replay_poll);
  }
}

void replica_set::served(std::size_t index) noexcept {
  replicas_[index]->reads.fetch_add(1, std::memory_order_relaxed);
}

void replica_set::failed(std::size_t index, const std::string& failure) {
  auto& r = *replicas_[index];
  r.in_rotation.store(false);
  // The server may have restarted or gone away: its other idle connections would each fail
  // one more read.
  r.pool->discard_idle();
  const std::lock_guard lock(mutex_);
  r.state = replica_state::down;
  r.reason = short_reason("a read failed there: " + failure, r.url, "the replica");
  spdlog::warn("read replica {} leaves the rotation until its next check: {}", r.name, failure);
}

std::vector<replica_status> replica_set::statuses(milliseconds wait) const {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, wait, [this] { return rounds_ > 0 || stopping_; });
  std::vector<replica_status> all;
  for (const auto& r : replicas_) {
    all.push_back({.name = r->name,
                   .state = r->state,
                   .reason = r->reason,
                   .replayed = r->replayed.get(),
                   .lag_bytes = r->lag_bytes,
                   .lag = r->lag,
                   .reads = r->reads.load()});
  }
  return all;
}

void replica_set::monitor() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto primary = check_all();
    lock.lock();
    last_primary_ = primary;
    ++rounds_;
    changed_.notify_all();
    changed_.wait_for(lock, options_.check_interval, [this] { return stopping_; });
  }
}

std::optional<std::uint64_t> replica_set::next_primary_position() const {
  std::unique_lock lock(mutex_);
  // The check under way may have read the position before the caller's commit: the one
  // after it started later.
  const auto after = rounds_ + 2;
  if (!changed_.wait_for(lock, (check_timeout(options_) + options_.check_interval) * 2,
                         [&] { return rounds_ >= after || stopping_; }) ||
      rounds_ < after) {
    return std::nullopt;
  }
  return last_primary_;
}

std::optional<std::uint64_t> replica_set::check_all() {
  std::optional<std::uint64_t> primary;
  try {
    primary = query_position(primary_, open_primary_, sql_.write_position());
  } catch (const error& e) {
    // Without the primary's position, lags stay as they were; reads on replicas are still
    // bound by their callers' positions.
    spdlog::debug("the replica monitor could not read the primary's write position: {}", e.what());
  }
  const auto now = std::chrono::steady_clock::now();
  if (primary && (history_.empty() || history_.back().second < *primary)) {
    history_.emplace_back(now, *primary);
  }
  // Older samples only tell how far past max_lag a replica is, which no one needs to know.
  const auto keep = std::max(options_.max_lag * 2, milliseconds(std::chrono::minutes(1)));
  while (history_.size() > 1 && now - history_.front().first > keep) {
    history_.pop_front();
  }
  for (auto& r : replicas_) {
    check(*r, primary);
  }
  return primary;
}

void replica_set::check(replica& r, std::optional<std::uint64_t> primary) {
  auto state = replica_state::up;
  std::string reason;
  std::uint64_t lag_bytes = 0;
  milliseconds lag{0};
  try {
    const auto replayed = query_position(r.monitor, r.open, sql_.replay_position());
    if (!replayed) {
      state = replica_state::down;
      reason = "not a standby: the server replays no write-ahead log";
    } else {
      r.replayed.advance(*replayed);
      lag_bytes = primary && *primary > *replayed ? *primary - *replayed : 0;
      lag = time_behind(*replayed);
      if (lag > options_.max_lag) {
        state = replica_state::lagging;
        reason = fmt::format("{} ms behind the primary, more than the {} ms allowed", lag.count(),
                             options_.max_lag.count());
      }
    }
  } catch (const error& e) {
    state = replica_state::down;
    reason = short_reason(e.what(), r.url, "the replica");
  }
  if (state == replica_state::down) {
    // Its idle connections died with it, or will not be wanted before they are stale.
    r.pool->discard_idle();
  }
  const std::lock_guard lock(mutex_);
  if (state != r.state) {
    if (state == replica_state::up) {
      spdlog::info("read replica {} is in the rotation", r.name);
    } else {
      spdlog::warn("read replica {} is {}: {}", r.name, to_string(state), reason);
    }
  }
  r.state = state;
  r.reason = std::move(reason);
  r.lag_bytes = lag_bytes;
  r.lag = lag;
  r.in_rotation.store(state == replica_state::up);
}

milliseconds replica_set::time_behind(std::uint64_t replayed) const {
  const auto first_missing =
      std::find_if(history_.begin(), history_.end(),
                   [&](const auto& sample) { return sample.second > replayed; });
  if (first_missing == history_.end()) {
    return milliseconds(0);
  }
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                  first_missing->first);
}

std::optional<std::uint64_t> replica_set::query_position(std::optional<connection>& conn,
                                                         const connection_pool::factory& open,
                                                         const std::string& sql) {
  if (!conn) {
    conn.emplace(open());
    // Ten checks a second would drown the development query log.
    query_log_options quiet;
    quiet.slow_threshold = milliseconds(0);
    conn->set_query_log(quiet);
  }
  long long answer = 0;
  try {
    answer = bounded_query(*conn, sql);
  } catch (const error&) {
    conn.reset();
    throw;
  }
  return answer < 0 ? std::nullopt : std::optional<std::uint64_t>(answer);
}

long long replica_set::bounded_query(connection& conn, const std::string& sql) {
  auto alarm =
      watchdog_.arm(check_timeout(options_), [&conn] { conn.backend().interrupt(conn.session()); });
  long long answer = 0;
  try {
    answer = query_number(conn, sql);
  } catch (const error&) {
    if (!alarm.disarm()) {
      throw;
    }
  }
  if (alarm.disarm()) {
    // Interrupted, whether or not the answer came first: the connection is done for.
    throw timeout_error(fmt::format("no answer to a replication check within {} ms",
                                    check_timeout(options_).count()));
  }
  return answer;
}

}  // namespace evstore::detail
