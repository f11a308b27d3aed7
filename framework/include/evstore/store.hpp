#pragma once

/// @file
/// The store: the entry point of the library. It owns the connection pool of one database and
/// hands out repositories and transactions. Thread-safe.
///
///     auto store = evstore::store::open(evstore::config::load(".").database());
///     auto event = store->events().create({.title = "Launch", .start_time = now});
///     store->transaction([&](evstore::transaction& tx) {
///       auto e = tx.events().create(...);
///       tx.media().add({.event_id = e.id, ...});
///     });

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "evstore/backend.hpp"
#include "evstore/config.hpp"
#include "evstore/error.hpp"
#include "evstore/export.hpp"
#include "evstore/migrator.hpp"
#include "evstore/pool.hpp"
#include "evstore/replicas.hpp"
#include "evstore/repositories.hpp"
#include "evstore/store_statistics.hpp"
#include "evstore/validation.hpp"

namespace evstore {

/// How often and how long a unit of work is retried after a retryable failure.
struct retry_policy {
  int max_attempts = 5;                                        ///< 1 disables retries
  std::chrono::milliseconds budget{std::chrono::seconds(10)};  ///< total time for all attempts
  std::chrono::milliseconds base_delay{10};  ///< doubles each attempt, full jitter
  std::chrono::milliseconds max_delay{1000};
};

struct store_options {
  connect_options connect;
  pool_settings pool;
  retry_policy retry;
  validation_limits limits;
  query_log_options query_log;
  /// How long opening a connection is retried (exponential backoff, full jitter) while the
  /// database cannot be reached, e.g. while it is still starting; 0 tries once.
  /// Shorter than the pool's acquire timeout by default, so that a caller hears
  /// connection_error, not pool_timeout, when the database is down.
  std::chrono::milliseconds connect_retry_budget{std::chrono::seconds(3)};
  /// The client-side deadline of one repository call, or of one attempt of a transaction
  /// (BEGIN to COMMIT), once it has its connection: when the database has not answered by
  /// then, the backend interrupts the call (backend::interrupt: PostgreSQL cancels the query
  /// and closes the socket), the connection is discarded, and the call fails with
  /// timeout_error, or commit_unknown when COMMIT was under way. It bounds what TCP cannot
  /// see, such as a hung server. Longer than connect.statement_timeout by default, so that
  /// the server's own timeout, which keeps the connection, comes first. 0 = no deadline.
  /// Not armed for a single-connection database (sqlite::memory:), whose one connection
  /// cannot be replaced.
  std::chrono::milliseconds call_timeout{std::chrono::seconds(35)};
  /// Searched for plugins before the default folder (as EVSTORE_PLUGIN_PATH).
  std::string plugin_path;
  /// The database server's own address, bypassing any pooler (EVSTORE_DIRECT_URL), as
  /// Prisma's `directUrl`: migrations run there, where a session lock and statements outside a
  /// transaction (CREATE INDEX CONCURRENTLY) work. Without it, migrations use the store's URL,
  /// which they refuse when it declares a transaction-mode pooler (connect.pooler).
  std::optional<database_url> direct_url;
  /// Read replicas of the database (EVSTORE_READ_URLS), each with a pool of its own: reads go
  /// there when one qualifies (evstore/replicas.hpp). Their evstore parameters (pool_max, ...)
  /// apply to their own pool; every other option is the store's. Only for a backend whose
  /// dialect has replication positions (PostgreSQL); refused otherwise.
  std::vector<database_url> read_urls;
  replica_options replicas;
};

class transaction;

/// Opens one connection as a store on `url` would open each of its own: evstore's parameters
/// of `url` (pool_max, pooler, ...) applied to `options` and removed from the URL the backend
/// sees, the query log set. For commands and tools that run statements of their own.
/// @throws plugin_error, config_error, connection_error.
[[nodiscard]] EVSTORE_API connection open_connection(const plugin_registry& plugins,
                                                     database_url url, store_options options);

/// The connection migrations run on, and how they must run there.
struct migration_connection {
  connection conn;
  /// Through a transaction-mode pooler without a direct URL: `migrate up` in one transaction
  /// under a transaction-level lock, and nothing else (migrator_options::single_transaction).
  bool single_transaction = false;
};

/// Opens the connection migrations run on: `options.direct_url` when it is set (the server's
/// own address, where the migration lock is a session lock), else `url` (as open_connection),
/// single_transaction when `url` declares a transaction-mode pooler.
/// @throws plugin_error, config_error, connection_error.
[[nodiscard]] EVSTORE_API migration_connection
open_migration_connection(const plugin_registry& plugins, database_url url, store_options options);

class EVSTORE_API store {
 public:
  /// Opens a store on `url`: loads the plugins, sets up the pool (connections open lazily).
  /// evstore's own URL parameters (pool_max, ...; see settings.hpp) override `options`.
  /// `sqlite::memory:` gives one in-memory database shared by the whole store.
  /// @throws plugin_error, config_error.
  [[nodiscard]] static std::unique_ptr<store> open(const database_url& url,
                                                   store_options options = {});

  store(const store&) = delete;
  store& operator=(const store&) = delete;
  ~store();

  [[nodiscard]] event_repository events();
  [[nodiscard]] media_repository media();

  /// Runs `work` in a transaction: commits when it returns, rolls back when it throws (and
  /// rethrows). Retried whole, under the retry policy, when it fails with a transient error or
  /// a lost connection before COMMIT was sent; never after (commit_unknown, whose category is
  /// error_category::commit_unknown), nor when `work` throws a commit_unknown of its own (a
  /// unit of work nested in it, on this store or another), which is passed on unchanged.
  /// Inside, use the transaction's repositories: the store's borrow a second connection, which
  /// fails at once with pool_reentry when the pool has no other (max_size 1, sqlite::memory:).
  /// @returns what `work` returns.
  template <typename Work>
  auto transaction(Work&& work) -> std::invoke_result_t<Work&, evstore::transaction&> {
    using result = std::invoke_result_t<Work&, evstore::transaction&>;
    if constexpr (std::is_void_v<result>) {
      run_transaction([&](evstore::transaction& tx) { work(tx); });
    } else {
      std::optional<result> value;
      run_transaction([&](evstore::transaction& tx) { value.emplace(work(tx)); });
      return std::move(*value);
    }
  }

  /// A new caller for read-your-writes: reads through it see every write made through it
  /// (evstore/replicas.hpp). The store's own repositories are a caller of their own.
  [[nodiscard]] evstore::causal_scope scope();
  /// A caller that sees the writes `token` carries (causal_scope::token()), for example those
  /// of the same user's previous request, handled by another process.
  /// @throws validation_error when `token` is not a token.
  [[nodiscard]] evstore::causal_scope scope(std::string_view token);
  /// A caller whose reads all go to the primary; its writes count as the store's own.
  [[nodiscard]] evstore::causal_scope on_primary();

  /// Every read replica as last checked, in the order configured; empty without read URLs.
  /// Waits up to `wait` for the first check after opening.
  [[nodiscard]] std::vector<replica_status> replicas(
      std::chrono::milliseconds wait = std::chrono::milliseconds(0)) const;

  /// Applies every pending built-in migration (and `app` ones, if given).
  std::vector<migration_step> migrate(std::vector<migration> app = {});

  /// The backend serving this store.
  [[nodiscard]] const backend& database_backend() const noexcept;
  /// The connection pool's figures.
  [[nodiscard]] pool_metrics metrics() const;

  /// The options in effect: those given to open() with the URL's own parameters applied.
  [[nodiscard]] const store_options& options() const noexcept;

  /// The store's connection pool, for code that checks or watches the database through it,
  /// such as a health_checker (evstore/health.hpp). Valid as long as the store.
  [[nodiscard]] connection_pool& pool() noexcept;

  /// The repository operations, transactions and retries since the store was opened.
  [[nodiscard]] store_statistics statistics() const;

  /// Opaque: defined in store.cpp.
  struct state;

 private:
  explicit store(std::shared_ptr<state> shared);
  void run_transaction(const std::function<void(evstore::transaction&)>& work);

  std::shared_ptr<state> state_;
};

/// A unit of work on one connection; see store::transaction.
class EVSTORE_API transaction {
 public:
  [[nodiscard]] event_repository events();
  [[nodiscard]] media_repository media();

  /// A nested unit of work in a savepoint: rolled back alone when `work` throws (and the
  /// exception rethrown), kept when it returns.
  void savepoint(const std::function<void(transaction&)>& work);

  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction();

 private:
  friend class store;
  explicit transaction(std::shared_ptr<detail::connection_source> source);
  std::shared_ptr<detail::connection_source> source_;
  int savepoints_ = 0;
};

}  // namespace evstore
