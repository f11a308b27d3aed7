#include "evstore/store.hpp"

#include <atomic>
#include <cstdlib>
#include <limits>
#include <random>
#include <thread>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "deadline.hpp"
#include "evstore/detail/connection_source.hpp"
#include "evstore/error.hpp"
#include "evstore/settings.hpp"
#include "replica_set.hpp"

namespace evstore {

namespace {

// What a retry may cure: the database said so (serialization failure, deadlock, busy), or
// the connection went away before COMMIT was sent. Never a commit_unknown, which `work` may
// throw from a unit of work nested in it: its category is its own.
bool retryable(const error& e) {
  return e.category() == error_category::transient || e.category() == error_category::connection;
}

std::chrono::milliseconds backoff(const retry_policy& policy, int attempt) {
  // Exponential with full jitter: a random delay up to base * 2^attempt, capped.
  thread_local std::mt19937 random{std::random_device{}()};
  const auto ceiling =
      std::min(policy.max_delay.count(), policy.base_delay.count() << std::min(attempt, 20));
  return std::chrono::milliseconds(
      std::uniform_int_distribution<long long>(0, std::max<long long>(ceiling, 0))(random));
}

void roll_back(connection_pool::lease& lease) {
  try {
    lease->execute("ROLLBACK");
  } catch (const std::exception& e) {
    // A connection that cannot roll back is not handed out again.
    spdlog::debug("rollback failed, discarding the connection: {}", e.what());
    lease.mark_broken();
  }
}

}  // namespace

struct store::state {
  plugin_registry plugins;
  loaded_plugin plugin;
  database_url url;
  store_options options;
  const dialect* sql = nullptr;
  std::unique_ptr<connection_pool> pool;
  detail::statistics_recorder statistics;
  detail::statement_texts texts;
  detail::watchdog watchdog;
  // After the watchdog, which bounds the replicas' checks, so that they stop first.
  std::unique_ptr<detail::replica_set> replicas;
  // The position the store's own repositories' reads must see (causal_scope).
  std::shared_ptr<detail::causal_position> position = std::make_shared<detail::causal_position>();
  std::atomic<std::uint64_t> primary_reads{0};

  // Runs `work` in a write transaction on a pooled connection, retrying it whole under the
  // policy while it fails retryably before COMMIT is sent. Once committed, `caller` learns
  // its position when there are read replicas.
  void in_transaction(const std::function<void(connection&)>& work,
                      detail::causal_position& caller);

  // Tells `caller` the primary's write position after a write committed on `lease`, for the
  // replicas to be measured against. Never throws: the write is stored whatever happens here.
  void record_write(connection_pool::lease& lease, detail::causal_position& caller) noexcept;
};

namespace {

// The client-side deadline (store_options::call_timeout) of one call on a pooled connection:
// armed from construction to end(). When it passes, the backend interrupts the connection,
// which is then marked broken. Declared after its lease, so that it ends before the lease
// gives the connection back: the watchdog never touches a connection back in the pool.
class call_deadline {
 public:
  call_deadline(store::state& state, connection_pool::lease& lease)
      : lease_(lease), timeout_(state.options.call_timeout) {
    if (!state.plugin.backend->single_connection_database(state.url)) {
      alarm_ = state.watchdog.arm(timeout_,
                                  [&conn = *lease] { conn.backend().interrupt(conn.session()); });
    }
  }
  call_deadline(const call_deadline&) = delete;
  call_deadline& operator=(const call_deadline&) = delete;
  ~call_deadline() { end(); }

  // Disarms; an interrupted connection is marked broken. Once: the lease may have given its
  // connection back after the first call.
  void end() noexcept {
    if (!ended_) {
      ended_ = true;
      if (alarm_.disarm()) {
        lease_.mark_broken();
      }
    }
  }

  // Whether the deadline passed and the connection was interrupted.
  [[nodiscard]] bool passed() const noexcept { return alarm_.fired(); }

  // Throws timeout_error if the deadline passed: the failure the caller sees is the
  // interruption's, not its aftermath (a closed socket, a cancelled query). Except a
  // commit_unknown, of a unit of work nested in this call: no aftermath of the interruption,
  // and a timeout would hide that its writes may be stored.
  void throw_if_passed(const error& failure) const {
    if (passed() && failure.category() != error_category::commit_unknown) {
      throw timeout_error(
          fmt::format("no answer from the database within the call timeout of {} ms: the call was "
                      "interrupted and its connection discarded ({})",
                      timeout_.count(), failure.what()),
          "", failure.backend());
    }
  }

 private:
  connection_pool::lease& lease_;
  std::chrono::milliseconds timeout_;
  detail::watchdog::alarm alarm_;
  bool ended_ = false;
};

// A repository call from the store: a pooled connection for the call, on a read replica for
// a read when one qualifies.
class pooled_source final : public detail::connection_source {
 public:
  pooled_source(std::shared_ptr<store::state> state,
                std::shared_ptr<detail::causal_position> caller, bool primary_only)
      : connection_source(*state->sql, state->options.limits, state->statistics, state->texts),
        state_(std::move(state)),
        caller_(std::move(caller)),
        primary_only_(primary_only) {}

 protected:
  void run_on_connection(const std::function<void(connection&)>& work) override {
    on_primary(work, true);
  }

  void run_on_connection_atomically(const std::function<void(connection&)>& work) override {
    state_->in_transaction(
        [&](connection& conn) { detail::translating(conn, [&] { work(conn); }); }, *caller_);
  }

  void run_on_connection_for_read(const std::function<void(connection&)>& work) override {
    if (auto* replicas = state_->replicas.get(); replicas != nullptr && !primary_only_) {
      if (auto picked = replicas->choose(caller_->get()); picked && on_replica(*picked, work)) {
        return;
      }
      replicas->fell_back();
    }
    state_->primary_reads.fetch_add(1, std::memory_order_relaxed);
    on_primary(work, false);
  }

 private:
  void on_primary(const std::function<void(connection&)>& work, bool writes) {
    auto lease = state_->pool->acquire();
    const call_deadline deadline(*state_, lease);
    try {
      detail::translating(*lease, [&] { work(*lease); });
      if (writes && state_->replicas) {
        state_->record_write(lease, *caller_);
      }
    } catch (const error& e) {
      deadline.throw_if_passed(e);
      if (e.category() == error_category::connection) {
        lease.mark_broken();
      }
      throw;
    }
  }

  // Runs a read on the replica picked for it. False, with the replica out of the rotation,
  // when the replica failed in a way the primary may not (lost, or the read cancelled by a
  // conflict with recovery): the caller then reads from the primary, as a read is safe to run
  // twice. A read past its call timeout fails as on the primary, its time being up, and the
  // replica, likely hung, leaves the rotation.
  bool on_replica(detail::replica_set::pick& picked, const std::function<void(connection&)>& work) {
    call_deadline deadline(*state_, picked.lease);
    try {
      detail::translating(*picked.lease, [&] { work(*picked.lease); });
    } catch (const error& e) {
      const auto category = e.category();
      const bool lost = category == error_category::connection;
      if (!deadline.passed() && !lost && category != error_category::transient) {
        throw;
      }
      state_->replicas->failed(picked.replica, e.what());
      deadline.throw_if_passed(e);
      if (lost) {
        picked.lease.mark_broken();
      }
      return false;
    }
    state_->replicas->served(picked.replica);
    return true;
  }

  std::shared_ptr<store::state> state_;
  std::shared_ptr<detail::causal_position> caller_;
  bool primary_only_;
};

// A repository call inside a transaction: its connection, its transaction.
class transaction_source final : public detail::connection_source {
 public:
  transaction_source(connection& conn, store::state& state)
      : connection_source(*state.sql, state.options.limits, state.statistics, state.texts),
        conn_(conn) {}

 protected:
  void run_on_connection(const std::function<void(connection&)>& work) override {
    detail::translating(conn_, [&] { work(conn_); });
  }

  void run_on_connection_atomically(const std::function<void(connection&)>& work) override {
    run_on_connection(work);
  }

 private:
  connection& conn_;
};

}  // namespace

void store::state::record_write(connection_pool::lease& lease,
                                detail::causal_position& caller) noexcept {
  try {
    caller.advance(detail::write_position(*lease, *sql));
    return;
  } catch (const std::exception& e) {
    lease.mark_broken();
    spdlog::warn(
        "could not read the primary's write position after a write ({}); asking the "
        "replica monitor",
        e.what());
  }
  // Any session's write position, read after the commit, is past it.
  if (const auto later = replicas->next_primary_position()) {
    caller.advance(*later);
    return;
  }
  spdlog::warn(
      "the primary's write position is unknown after a write: this caller's reads "
      "now always go to the primary");
  caller.advance(std::numeric_limits<std::uint64_t>::max());
}

void store::state::in_transaction(const std::function<void(connection&)>& work,
                                  detail::causal_position& caller) {
  const auto deadline = std::chrono::steady_clock::now() + options.retry.budget;
  for (int attempt = 1;; ++attempt) {
    auto lease = pool->acquire();
    bool commit_sent = false;
    call_deadline call(*this, lease);
    try {
      // No translation here: `work` is evstore's own (translated where it runs statements) or
      // an application's (store::transaction), whose exceptions reach it unchanged.
      lease->execute(sql->begin_write());
      work(*lease);
      commit_sent = true;
      lease->execute("COMMIT");
      statistics.transaction_committed();
      if (replicas) {
        record_write(lease, caller);
      }
      return;
    } catch (const error& e) {
      if (commit_sent && (e.category() == error_category::connection || call.passed())) {
        lease.mark_broken();
        statistics.commit_outcome_unknown();
        throw commit_unknown(
            fmt::format(
                "the connection was lost, or the database did not answer in time, after COMMIT "
                "was sent, so whether the transaction was stored is unknown; it was not retried "
                "({})",
                e.what()),
            e.native_code(), e.backend());
      }
      if (call.passed()) {
        statistics.transaction_failed();
        call.throw_if_passed(e);
        throw;  // a nested unit of work's commit_unknown, unchanged
      }
      if (e.category() == error_category::connection) {
        lease.mark_broken();
      } else if (!commit_sent) {
        roll_back(lease);
      }
      const auto delay = backoff(options.retry, attempt);
      if (!retryable(e) || attempt >= options.retry.max_attempts ||
          std::chrono::steady_clock::now() + delay > deadline) {
        statistics.transaction_failed();
        throw;
      }
      statistics.transaction_retried();
      spdlog::info("retrying a transaction (attempt {} of {}) in {} ms after: {}", attempt + 1,
                   options.retry.max_attempts, delay.count(), e.what());
      call.end();
      lease = {};
      std::this_thread::sleep_for(delay);
    } catch (...) {
      roll_back(lease);
      statistics.transaction_failed();
      throw;
    }
  }
}

namespace {

// Opens a connection, retrying with exponential backoff and full jitter while the database
// cannot be reached and the budget lasts (a database that is still starting).
connection open_with_retries(const plugin_registry& plugins, const database_url& url,
                             const store_options& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.connect_retry_budget;
  for (int attempt = 1;; ++attempt) {
    try {
      auto conn = connection::open(plugins, url, options.connect);
      conn.set_query_log(options.query_log);
      return conn;
    } catch (const connection_error& e) {
      const auto delay = backoff(options.retry, attempt);
      if (std::chrono::steady_clock::now() + delay >= deadline) {
        throw;
      }
      spdlog::info("connecting failed (attempt {}), retrying in {} ms: {}", attempt, delay.count(),
                   e.what());
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace

connection open_connection(const plugin_registry& plugins, database_url url,
                           store_options options) {
  apply_url_settings(url, options);
  auto conn = connection::open(plugins, url, options.connect);
  conn.set_query_log(options.query_log);
  return conn;
}

migration_connection open_migration_connection(const plugin_registry& plugins, database_url url,
                                               store_options options) {
  apply_url_settings(url, options);
  if (options.direct_url) {
    // The server's own address: whatever the main URL says of a pooler, this one has none
    // unless it says so itself.
    options.connect.pooler = pooler_mode::none;
    return {open_connection(plugins, *options.direct_url, options), false};
  }
  const bool pooled = options.connect.pooler == pooler_mode::transaction;
  return {open_connection(plugins, std::move(url), std::move(options)), pooled};
}

namespace {

// The store's read replicas, each with the store's options and its URL's own parameters.
// Their connections are opened once, without retries: a replica that cannot be reached is
// skipped (the read goes to the primary), not waited for.
std::unique_ptr<detail::replica_set> open_replicas(store::state& s) {
  if (s.sql->write_position().empty() || s.sql->replay_position().empty()) {
    throw config_error(
        fmt::format("the {} backend has no read replicas: leave EVSTORE_READ_URLS "
                    "(store_options::read_urls) empty",
                    s.plugin.info.name));
  }
  auto once = s.options;
  once.connect_retry_budget = std::chrono::milliseconds(0);
  std::vector<detail::replica_set::member> members;
  for (std::size_t i = 0; i < s.options.read_urls.size(); ++i) {
    auto url = s.options.read_urls[i];
    auto options = once;
    apply_url_settings(url, options);
    if (s.plugins.plugin_for(url.scheme).info.name != s.plugin.info.name) {
      throw config_error(
          fmt::format("read URL {}: its scheme {} is not served by the {} backend "
                      "of the primary",
                      i + 1, url.scheme, s.plugin.info.name));
    }
    auto pool = options.pool;
    members.push_back({url,
                       [registry = &s.plugins, url, options = std::move(options)] {
                         return open_with_retries(*registry, url, options);
                       },
                       pool});
  }
  return std::make_unique<detail::replica_set>(
      std::move(members),
      [registry = &s.plugins, url = s.url, once] {
        return open_with_retries(*registry, url, once);
      },
      *s.sql, s.options.replicas, s.watchdog);
}

}  // namespace

std::unique_ptr<store> store::open(const database_url& requested, store_options options) {
  auto url = requested;
  apply_url_settings(url, options);
  auto s = std::make_shared<state>();
  s->plugins = plugin_registry::discover(plugin_registry::search_path(options.plugin_path));
  s->plugin = s->plugins.plugin_for(url.scheme);
  s->url = url;
  s->sql = s->plugin.backend->sql_dialect();
  if (s->sql == nullptr) {
    throw plugin_error(plugin_failure::no_backend, s->plugin.info.file,
                       fmt::format("backend {} has no SQL dialect: the store's repositories "
                                   "need one",
                                   s->plugin.info.name));
  }
  if (s->plugin.backend->single_connection_database(url)) {
    // The database lives as long as its one connection: one, opened now, never closed.
    options.pool.max_size = 1;
    options.pool.min_idle = 1;
    options.pool.idle_timeout = std::chrono::milliseconds(0);
    options.pool.max_lifetime = std::chrono::milliseconds(0);
  }
  s->options = std::move(options);
  s->pool = std::make_unique<connection_pool>(
      [registry = &s->plugins, url, options = &s->options] {
        return open_with_retries(*registry, url, *options);
      },
      s->options.pool);
  if (!s->options.read_urls.empty()) {
    s->replicas = open_replicas(*s);
  }
  return std::unique_ptr<store>(new store(std::move(s)));
}

store::store(std::shared_ptr<state> shared) : state_(std::move(shared)) {}

store::~store() {
  if (state_->replicas) {
    state_->replicas->close();
  }
  state_->pool->close();
}

event_repository store::events() {
  return event_repository(std::make_shared<pooled_source>(state_, state_->position, false));
}

media_repository store::media() {
  return media_repository(std::make_shared<pooled_source>(state_, state_->position, false));
}

evstore::causal_scope store::scope() {
  auto position = std::make_shared<detail::causal_position>();
  return {[state = state_, position] {
            return std::make_shared<pooled_source>(state, position, false);
          },
          position};
}

evstore::causal_scope store::scope(std::string_view token) {
  auto made = scope();
  made.observe(token);
  return made;
}

evstore::causal_scope store::on_primary() {
  return {
      [state = state_] { return std::make_shared<pooled_source>(state, state->position, true); },
      state_->position};
}

std::vector<replica_status> store::replicas(std::chrono::milliseconds wait) const {
  return state_->replicas ? state_->replicas->statuses(wait) : std::vector<replica_status>{};
}

void store::run_transaction(const std::function<void(evstore::transaction&)>& work) {
  state_->in_transaction(
      [&](connection& conn) {
        evstore::transaction tx(std::make_shared<transaction_source>(conn, *state_));
        work(tx);
      },
      *state_->position);
}

std::vector<migration_step> store::migrate(std::vector<migration> app) {
  if (state_->options.direct_url || state_->options.connect.pooler == pooler_mode::transaction) {
    auto target = open_migration_connection(state_->plugins, state_->url, state_->options);
    migrator_options options;
    options.single_transaction = target.single_transaction;
    migrator engine(target.conn, std::move(app), options);
    return engine.up();
  }
  auto lease = state_->pool->acquire();
  migrator engine(*lease, std::move(app), {});
  return engine.up();
}

const backend& store::database_backend() const noexcept {
  return *state_->plugin.backend;
}

const store_options& store::options() const noexcept {
  return state_->options;
}

pool_metrics store::metrics() const {
  return state_->pool->metrics();
}

connection_pool& store::pool() noexcept {
  return *state_->pool;
}

store_statistics store::statistics() const {
  auto figures = state_->statistics.snapshot();
  figures.primary_reads = state_->primary_reads.load();
  if (state_->replicas) {
    figures.replica_fallbacks = state_->replicas->fallbacks();
    figures.replicas = state_->replicas->statuses(std::chrono::milliseconds(0));
  }
  return figures;
}

transaction::transaction(std::shared_ptr<detail::connection_source> source)
    : source_(std::move(source)) {}

transaction::~transaction() = default;

event_repository transaction::events() {
  return event_repository(source_);
}

media_repository transaction::media() {
  return media_repository(source_);
}

void transaction::savepoint(const std::function<void(transaction&)>& work) {
  const auto name = fmt::format("evstore_savepoint_{}", ++savepoints_);
  source_->run([&](connection& conn) {
    conn.execute("SAVEPOINT " + name);
    try {
      work(*this);
    } catch (...) {
      conn.execute("ROLLBACK TO SAVEPOINT " + name);
      conn.execute("RELEASE SAVEPOINT " + name);
      throw;
    }
    conn.execute("RELEASE SAVEPOINT " + name);
  });
}

}  // namespace evstore
