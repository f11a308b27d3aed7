#include "evstore/store.hpp"

#include <cstdlib>
#include <random>
#include <thread>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "deadline.hpp"
#include "evstore/detail/connection_source.hpp"
#include "evstore/error.hpp"
#include "evstore/settings.hpp"

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

  // Runs `work` in a write transaction on a pooled connection, retrying it whole under the
  // policy while it fails retryably before COMMIT is sent.
  void in_transaction(const std::function<void(connection&)>& work);
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

// A repository call from the store: a pooled connection for the call.
class pooled_source final : public detail::connection_source {
 public:
  explicit pooled_source(std::shared_ptr<store::state> state)
      : connection_source(*state->sql, state->options.limits, state->statistics, state->texts),
        state_(std::move(state)) {}

 protected:
  void run_on_connection(const std::function<void(connection&)>& work) override {
    auto lease = state_->pool->acquire();
    const call_deadline deadline(*state_, lease);
    try {
      detail::translating(*lease, [&] { work(*lease); });
    } catch (const error& e) {
      deadline.throw_if_passed(e);
      if (e.category() == error_category::connection) {
        lease.mark_broken();
      }
      throw;
    }
  }

  void run_on_connection_atomically(const std::function<void(connection&)>& work) override {
    state_->in_transaction(
        [&](connection& conn) { detail::translating(conn, [&] { work(conn); }); });
  }

 private:
  std::shared_ptr<store::state> state_;
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

void store::state::in_transaction(const std::function<void(connection&)>& work) {
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
  return std::unique_ptr<store>(new store(std::move(s)));
}

store::store(std::shared_ptr<state> shared) : state_(std::move(shared)) {}

store::~store() {
  state_->pool->close();
}

event_repository store::events() {
  return event_repository(std::make_shared<pooled_source>(state_));
}

media_repository store::media() {
  return media_repository(std::make_shared<pooled_source>(state_));
}

void store::run_transaction(const std::function<void(evstore::transaction&)>& work) {
  state_->in_transaction([&](connection& conn) {
    evstore::transaction tx(std::make_shared<transaction_source>(conn, *state_));
    work(tx);
  });
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
  return state_->statistics.snapshot();
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
