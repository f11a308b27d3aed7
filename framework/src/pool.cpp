#include "evstore/pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "evstore/error.hpp"

namespace evstore {

std::size_t default_pool_max_size() noexcept {
  constexpr std::size_t floor = 4;
  return std::max<std::size_t>(floor, 2 * std::size_t{std::thread::hardware_concurrency()});
}

namespace detail {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// max_lifetime is shortened by up to this fraction, at random, per connection.
constexpr std::int64_t lifetime_jitter_divisor = 10;

// The least time a validation ping is given, even when the caller's acquire deadline is
// nearer: a healthy connection answers in well under a millisecond, and one that times out
// is closed, so too short a wait would throw good connections away.
constexpr milliseconds shortest_validation{10};

connection_error closed_error() {
  return connection_error("the pool is closed", "", "");
}

std::string describe(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

std::string thread_name(std::thread::id id) {
  std::ostringstream out;
  out << id;
  return out.str();
}

}  // namespace

// One pooled connection and what the pool knows about it. The bookkeeping fields are read
// and written under the pool's lock only; `conn` by whoever holds the connection.
struct pooled_connection {
  explicit pooled_connection(connection opened) : conn(std::move(opened)) {}

  connection conn;
  clock::time_point expires = clock::time_point::max();
  clock::time_point idle_since{};
  clock::time_point borrowed_at{};
  std::source_location where{};
  std::thread::id holder{};  // the borrowing thread: leak warnings, pool_reentry
  bool leak_reported = false;
  bool broken = false;  // set by the lease holder, read when the lease gives it back
};

namespace {

struct opening;

// A caller blocked in acquire(), living on that caller's stack. Fields under the pool lock.
struct waiter {
  std::condition_variable wake;
  std::unique_ptr<pooled_connection> handed;
  std::exception_ptr failure;
  opening* pending = nullptr;  // the opening started on this caller's behalf, if any
  bool done = false;
};

// A connection being opened on a helper thread. The requester hears of a failure; a success
// goes to whoever has waited longest. Fields under the pool lock.
struct opening {
  waiter* requester = nullptr;
};

}  // namespace

class pool_state : public std::enable_shared_from_this<pool_state> {
 public:
  pool_state(connection_pool::factory open, pool_settings settings)
      : factory_(std::move(open)),
        settings_(std::move(settings)),
        random_(std::random_device{}()) {}

  pool_state(const pool_state&) = delete;
  pool_state& operator=(const pool_state&) = delete;

  // The pool's destructor has called close(), which joined the housekeeper.
  ~pool_state() = default;

  [[nodiscard]] const pool_settings& settings() const noexcept { return settings_; }

  void start() {
    std::lock_guard lock(mutex_);
    housekeeper_ = std::thread([this] { housekeep(); });
  }

  connection_pool::lease acquire(std::source_location where, milliseconds timeout) {
    const auto start = clock::now();
    const auto deadline = start + timeout;
    bool first_in_line = false;
    for (;;) {
      std::unique_ptr<pooled_connection> got =
          wait_for_connection(deadline, timeout, first_in_line);

      // Checked outside the lock: a ping is a round trip to the database.
      const auto now = clock::now();
      if (now >= got->expires) {
        discard(std::move(got), destroyed_lifetime_);
        first_in_line = true;  // keep our place in the queue
        continue;
      }
      if (now - got->idle_since > settings_.validation_threshold &&
          !valid(got->conn,
                 std::max(duration_cast<milliseconds>(deadline - now), shortest_validation))) {
        discard(std::move(got), destroyed_validation_);
        first_in_line = true;
        continue;
      }

      std::unique_lock lock(mutex_);
      if (closed_) {
        --open_;
        ++destroyed_closed_;
        lock.unlock();
        got.reset();
        throw closed_error();
      }
      const auto handed_at = clock::now();
      got->borrowed_at = handed_at;
      got->where = where;
      got->holder = std::this_thread::get_id();
      got->leak_reported = false;
      got->broken = false;
      borrowed_.push_back(got.get());
      record_acquisition(duration_cast<microseconds>(handed_at - start));
      return connection_pool::lease(shared_from_this(), std::move(got));
    }
  }

  // Takes back a connection from a lease.
  void give_back(std::unique_ptr<pooled_connection> entry) noexcept {
    std::unique_ptr<pooled_connection> doomed;  // closed after the lock is released
    std::lock_guard lock(mutex_);
    // Unordered: the last one takes its place, so no call allocates once the pool has lent
    // its most.
    if (const auto held = std::find(borrowed_.begin(), borrowed_.end(), entry.get());
        held != borrowed_.end()) {
      *held = borrowed_.back();
      borrowed_.pop_back();
    }
    if (closed_) {
      --open_;
      ++destroyed_closed_;
      doomed = std::move(entry);
      return;
    }
    const auto now = clock::now();
    if (entry->broken || now >= entry->expires) {
      --open_;
      ++(entry->broken ? destroyed_broken_ : destroyed_lifetime_);
      doomed = std::move(entry);
    } else {
      entry->idle_since = now;
      idle_.push_back(std::move(entry));
    }
    serve_waiters();
  }

  void close() {
    std::deque<std::unique_ptr<pooled_connection>> doomed;
    std::thread housekeeper;
    {
      std::lock_guard lock(mutex_);
      if (!closed_) {
        closed_ = true;
        doomed.swap(idle_);
        open_ -= doomed.size();
        destroyed_closed_ += doomed.size();
        while (!waiters_.empty()) {
          waiter* w = waiters_.front();
          w->failure = std::make_exception_ptr(closed_error());
          finish(*w);
        }
        housekeeper = std::move(housekeeper_);
      }
      housekeeper_wake_.notify_all();
    }
    doomed.clear();
    if (housekeeper.joinable()) {
      housekeeper.join();
    }
    std::unique_lock lock(mutex_);
    openers_done_.wait(lock, [this] { return openers_running_ == 0; });
    // No helper thread uses the factory any more: let go of what it captured now, in the
    // caller's thread, rather than whenever the last lease goes.
    factory_ = nullptr;
  }

  std::size_t discard_idle() noexcept {
    std::deque<std::unique_ptr<pooled_connection>> doomed;  // closed after the lock is released
    std::lock_guard lock(mutex_);
    doomed.swap(idle_);
    open_ -= doomed.size();
    destroyed_broken_ += doomed.size();
    return doomed.size();
  }

  [[nodiscard]] pool_metrics metrics() const {
    std::lock_guard lock(mutex_);
    pool_metrics m;
    m.size = open_ + creating_;
    m.idle = idle_.size();
    m.in_use = open_ - idle_.size();
    m.opening = creating_;
    m.waiting = waiters_.size();
    m.max_size = settings_.max_size;
    m.created = created_;
    m.timeouts = timeouts_;
    m.acquired = acquire_count_;
    m.destroyed_broken = destroyed_broken_;
    m.destroyed_idle = destroyed_idle_;
    m.destroyed_lifetime = destroyed_lifetime_;
    m.destroyed_validation = destroyed_validation_;
    m.destroyed_closed = destroyed_closed_;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < m.acquire_histogram.size(); ++i) {
      cumulative += bucket_counts_[i];
      m.acquire_histogram[i] = cumulative;
    }
    m.acquire_count = acquire_count_;
    m.acquire_time_total = acquire_time_total_;
    return m;
  }

 private:
  // Queues the caller and blocks until it is handed a connection, fails, or the deadline
  // passes. Fails at once, without queueing, when the caller holds every connection.
  std::unique_ptr<pooled_connection> wait_for_connection(clock::time_point deadline,
                                                         milliseconds timeout, bool first_in_line) {
    std::unique_lock lock(mutex_);
    if (closed_) {
      throw closed_error();
    }
    if (holds_every_connection(std::this_thread::get_id())) {
      throw pool_reentry(fmt::format(
          "connection pool: this thread already holds every connection the pool may have ({} "
          "of max_size {}) and asks for another, which only it could give back: it would wait "
          "for itself until the acquire timeout. Inside store.transaction(), use the "
          "transaction's repositories (tx.events(), tx.media()), not the store's; otherwise "
          "give a connection back before borrowing another, or raise max_size (pool_max, "
          "EVSTORE_POOL_MAX)",
          borrowed_.size(), settings_.max_size));
    }
    waiter w;
    // Leaves the queue on every way out, exceptions included, while the lock is still held.
    struct dequeue_on_exit {
      pool_state& pool;
      waiter& w;
      ~dequeue_on_exit() {
        if (!w.done) {
          pool.remove(w);
        }
      }
    } guard{*this, w};
    if (first_in_line) {
      waiters_.push_front(&w);
    } else {
      waiters_.push_back(&w);
    }
    serve_waiters();
    while (!w.done) {
      if (w.wake.wait_until(lock, deadline) == std::cv_status::timeout) {
        break;
      }
    }
    if (!w.done) {
      ++timeouts_;
      throw pool_timeout(
          fmt::format("no pooled connection became available within {} ms (pool size {} of at "
                      "most {}: {} in use, {} idle, {} being opened; {} waiting)",
                      timeout.count(), open_ + creating_, settings_.max_size, open_ - idle_.size(),
                      idle_.size(), creating_, waiters_.size()));
    }
    if (w.failure) {
      std::rethrow_exception(w.failure);
    }
    return std::move(w.handed);
  }

  // Whether `thread` holds every connection the pool may have (then none is idle or being
  // opened): none can come to it before it gives one back. Under the lock; cheap unless the
  // pool has lent its most.
  [[nodiscard]] bool holds_every_connection(std::thread::id thread) const {
    return borrowed_.size() >= settings_.max_size &&
           std::all_of(borrowed_.begin(), borrowed_.end(),
                       [thread](const pooled_connection* held) { return held->holder == thread; });
  }

  // Closes a connection that failed a check before being handed out, and frees its slot.
  void discard(std::unique_ptr<pooled_connection> entry, std::uint64_t& counter) {
    entry.reset();
    std::lock_guard lock(mutex_);
    --open_;
    ++counter;
    if (!closed_) {
      serve_waiters();
    }
  }

  // The default check is a ping bounded by what is left of the caller's acquire timeout: a
  // hung server cannot hold the caller past it.
  bool valid(connection& conn, milliseconds deadline) const noexcept {
    try {
      if (settings_.validate) {
        return settings_.validate(conn);
      }
      (void)conn.backend().ping(conn.session(), deadline);
      return true;
    } catch (const std::exception& e) {
      spdlog::info("connection pool: an idle connection failed validation and is closed: {}",
                   e.what());
    } catch (...) {
      spdlog::info("connection pool: an idle connection failed validation and is closed");
    }
    return false;
  }

  void record_acquisition(microseconds took) {
    ++acquire_count_;
    acquire_time_total_ += took;
    const auto& bounds = pool_metrics::acquire_buckets;
    const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), took);
    if (bucket != bounds.end()) {
      ++bucket_counts_[static_cast<std::size_t>(bucket - bounds.begin())];
    }
  }

  // The following run under the lock.

  // Hands idle connections to the longest waiters, then starts openings for waiters that
  // no opening in flight will serve, as far as max_size allows.
  void serve_waiters() {
    while (!waiters_.empty() && !idle_.empty()) {
      waiter& w = *waiters_.front();
      w.handed = std::move(idle_.back());  // the most recently used: the others may expire
      idle_.pop_back();
      finish(w);
    }
    while (waiters_.size() > creating_ && open_ + creating_ < settings_.max_size) {
      const auto unserved =
          std::find_if(waiters_.begin(), waiters_.end(), [](waiter* w) { return !w->pending; });
      if (unserved == waiters_.end() || !start_opening(*unserved)) {
        break;
      }
    }
  }

  // Takes `w` out of the queue and wakes it.
  void finish(waiter& w) {
    remove(w);
    w.done = true;
    w.wake.notify_one();
  }

  void remove(waiter& w) {
    const auto it = std::find(waiters_.begin(), waiters_.end(), &w);
    if (it != waiters_.end()) {
      waiters_.erase(it);
    }
    if (w.pending != nullptr) {
      w.pending->requester = nullptr;
      w.pending = nullptr;
    }
  }

  // Opens one connection on a helper thread. False if no thread could be started, in which
  // case the requester has been given that failure.
  bool start_opening(waiter* requester) {
    const auto op = openings_.insert(openings_.end(), opening{requester});
    if (requester != nullptr) {
      requester->pending = &*op;
    }
    ++creating_;
    ++openers_running_;
    try {
      std::thread([self = shared_from_this(), op] { self->run_opening(op); }).detach();
      return true;
    } catch (...) {
      --creating_;
      --openers_running_;
      openings_.erase(op);
      if (requester != nullptr) {
        requester->pending = nullptr;
        requester->failure = std::current_exception();
        finish(*requester);
      }
      return false;
    }
  }

  void run_opening(std::list<opening>::iterator op) {
    std::unique_ptr<pooled_connection> entry;
    std::exception_ptr failure;
    try {
      entry = std::make_unique<pooled_connection>(factory_());
    } catch (...) {
      failure = std::current_exception();
    }
    std::unique_ptr<pooled_connection> doomed;
    bool unclaimed_failure = false;
    {
      std::lock_guard lock(mutex_);
      --creating_;
      waiter* requester = op->requester;
      if (requester != nullptr) {
        requester->pending = nullptr;
      }
      openings_.erase(op);
      if (entry) {
        ++created_;
        if (closed_) {
          ++destroyed_closed_;
          doomed = std::move(entry);
        } else {
          const auto now = clock::now();
          entry->expires = expiry(now);
          entry->idle_since = now;
          ++open_;
          idle_.push_back(std::move(entry));
        }
      } else if (requester != nullptr) {
        // Moved, not copied: the waiter becomes the only owner of the exception object.
        requester->failure = std::move(failure);
        finish(*requester);
      } else {
        unclaimed_failure = true;
      }
      if (!closed_) {
        serve_waiters();
      }
    }
    doomed.reset();
    if (unclaimed_failure) {
      spdlog::warn("connection pool: opening a connection failed: {}", describe(failure));
    }
    // Last: once the count reaches zero, close() may return and the factory be destroyed.
    std::lock_guard lock(mutex_);
    if (--openers_running_ == 0) {
      openers_done_.notify_all();
    }
  }

  clock::time_point expiry(clock::time_point opened) {
    if (settings_.max_lifetime <= milliseconds::zero()) {
      return clock::time_point::max();
    }
    const auto lifetime = duration_cast<microseconds>(settings_.max_lifetime);
    std::uniform_int_distribution<microseconds::rep> jitter(
        0, lifetime.count() / lifetime_jitter_divisor);
    return opened + lifetime - microseconds{jitter(random_)};
  }

  void housekeep() {
    const auto interval = std::max(settings_.housekeeping_interval, milliseconds{1});
    std::unique_lock lock(mutex_);
    while (!closed_) {
      tidy(lock);
      housekeeper_wake_.wait_for(lock, interval, [this] { return closed_; });
    }
  }

  // One round of housekeeping; releases the lock to close connections and to log.
  void tidy(std::unique_lock<std::mutex>& lock) {
    const auto now = clock::now();
    std::vector<std::unique_ptr<pooled_connection>> doomed;
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (now >= (*it)->expires) {
        ++destroyed_lifetime_;
        doomed.push_back(std::move(*it));
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
    // idle_ is ordered by idle_since (returned connections go to the back), so the longest
    // idle are at the front.
    if (settings_.idle_timeout > milliseconds::zero()) {
      while (idle_.size() > settings_.min_idle &&
             now - idle_.front()->idle_since > settings_.idle_timeout) {
        ++destroyed_idle_;
        doomed.push_back(std::move(idle_.front()));
        idle_.pop_front();
      }
    }
    open_ -= doomed.size();

    std::vector<std::string> leaks;
    if (settings_.leak_threshold > milliseconds::zero()) {
      for (pooled_connection* held : borrowed_) {
        const auto age = now - held->borrowed_at;
        if (!held->leak_reported && age > settings_.leak_threshold) {
          held->leak_reported = true;
          leaks.push_back(fmt::format(
              "connection pool: possible connection leak: a connection borrowed at {}:{} {} by "
              "thread {} has been held for {} ms (leak_threshold {} ms)",
              held->where.file_name(), held->where.line(), held->where.function_name(),
              thread_name(held->holder), duration_cast<milliseconds>(age).count(),
              settings_.leak_threshold.count()));
        }
      }
    }

    // Waiters are already covered by serve_waiters(); min_idle comes on top of them.
    while (idle_.size() + creating_ < settings_.min_idle + waiters_.size() &&
           open_ + creating_ < settings_.max_size) {
      if (!start_opening(nullptr)) {
        break;
      }
    }

    if (doomed.empty() && leaks.empty()) {
      return;
    }
    lock.unlock();
    doomed.clear();
    for (const auto& leak : leaks) {
      spdlog::warn("{}", leak);
    }
    lock.lock();
  }

  connection_pool::factory factory_;
  const pool_settings settings_;

  mutable std::mutex mutex_;
  // Everything below is guarded by mutex_.
  std::deque<std::unique_ptr<pooled_connection>> idle_;  // back = most recently returned
  std::vector<pooled_connection*> borrowed_;             // leak warnings, pool_reentry
  std::deque<waiter*> waiters_;                          // front = longest waiting
  std::list<opening> openings_;
  std::size_t open_ = 0;      // idle + handed out
  std::size_t creating_ = 0;  // being opened
  std::size_t openers_running_ = 0;
  bool closed_ = false;
  std::condition_variable housekeeper_wake_;
  std::condition_variable openers_done_;
  std::thread housekeeper_;
  std::mt19937_64 random_;

  std::uint64_t created_ = 0;
  std::uint64_t timeouts_ = 0;
  std::uint64_t destroyed_broken_ = 0;
  std::uint64_t destroyed_idle_ = 0;
  std::uint64_t destroyed_lifetime_ = 0;
  std::uint64_t destroyed_validation_ = 0;
  std::uint64_t destroyed_closed_ = 0;
  std::array<std::uint64_t, pool_metrics::acquire_buckets.size()> bucket_counts_{};
  std::uint64_t acquire_count_ = 0;
  microseconds acquire_time_total_{0};
};

}  // namespace detail

// --- lease ----------------------------------------------------------------------------------

connection_pool::lease::lease() noexcept = default;

connection_pool::lease::lease(std::shared_ptr<detail::pool_state> pool,
                              std::unique_ptr<detail::pooled_connection> entry) noexcept
    : pool_(std::move(pool)), entry_(std::move(entry)) {}

connection_pool::lease::lease(lease&& other) noexcept
    : pool_(std::move(other.pool_)), entry_(std::move(other.entry_)) {}

connection_pool::lease& connection_pool::lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::move(other.pool_);
    entry_ = std::move(other.entry_);
  }
  return *this;
}

connection_pool::lease::~lease() {
  give_back();
}

connection& connection_pool::lease::get() const noexcept {
  return entry_->conn;
}

void connection_pool::lease::mark_broken() noexcept {
  entry_->broken = true;
}

void connection_pool::lease::give_back() noexcept {
  if (entry_) {
    pool_->give_back(std::move(entry_));
  }
  pool_.reset();
}

// --- connection_pool ------------------------------------------------------------------------

namespace {

// Longer durations are capped to this: a century is "never" for a pool.
constexpr std::chrono::milliseconds longest_duration = std::chrono::hours{24 * 365 * 100};

pool_settings checked(pool_settings settings) {
  if (settings.max_size == 0) {
    throw config_error("connection pool: max_size must be at least 1");
  }
  using duration_field = std::chrono::milliseconds pool_settings::*;
  const std::pair<const char*, duration_field> durations[] = {
      {"acquire_timeout", &pool_settings::acquire_timeout},
      {"idle_timeout", &pool_settings::idle_timeout},
      {"max_lifetime", &pool_settings::max_lifetime},
      {"validation_threshold", &pool_settings::validation_threshold},
      {"leak_threshold", &pool_settings::leak_threshold},
      {"housekeeping_interval", &pool_settings::housekeeping_interval}};
  for (const auto& [name, field] : durations) {
    auto& value = settings.*field;
    if (value < std::chrono::milliseconds::zero()) {
      throw config_error(
          fmt::format("connection pool: {} must not be negative (got {} ms)", name, value.count()));
    }
    // Deadlines are computed in the steady clock's nanoseconds: milliseconds::max() and the
    // like would overflow there.
    value = std::min(value, longest_duration);
  }
  settings.min_idle = std::min(settings.min_idle, settings.max_size);
  return settings;
}

}  // namespace

connection_pool::connection_pool(factory open, pool_settings settings) {
  if (!open) {
    throw config_error("connection pool: no connection factory given");
  }
  state_ = std::make_shared<detail::pool_state>(std::move(open), checked(std::move(settings)));
  state_->start();
}

connection_pool::~connection_pool() {
  close();
}

connection_pool::lease connection_pool::acquire(std::source_location where) {
  return state_->acquire(where, state_->settings().acquire_timeout);
}

connection_pool::lease connection_pool::acquire_within(std::chrono::milliseconds timeout,
                                                       std::source_location where) {
  return state_->acquire(where,
                         std::clamp(timeout, std::chrono::milliseconds::zero(), longest_duration));
}

void connection_pool::close() {
  state_->close();
}

std::size_t connection_pool::discard_idle() noexcept {
  return state_->discard_idle();
}

pool_metrics connection_pool::metrics() const {
  return state_->metrics();
}

const pool_settings& connection_pool::settings() const noexcept {
  return state_->settings();
}

}  // namespace evstore
