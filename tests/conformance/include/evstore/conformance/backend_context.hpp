#pragma once

/// @file
/// What a backend supplies to run the conformance suites against it: a way to make fresh,
/// empty databases, where its plugin is, and what it declares it can do. A suite is
/// instantiated once per backend with one of these (docs/plugin-guide.md):
///
///     const evstore::conformance::backend_context mydb{
///         .name = "mydb",
///         .fresh_database = [] { return std::make_unique<my_scratch_database>(); },
///         .capabilities = {evstore::conformance::capability::transactional_ddl}};
///     INSTANTIATE_TEST_SUITE_P(mydb, repository_conformance, ::testing::Values(mydb));

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <evstore/plugin_registry.hpp>
#include <evstore/store.hpp>

namespace evstore::conformance {

/// A fresh, empty database; destroying the handle removes it.
class database_handle {
 public:
  database_handle() = default;
  database_handle(const database_handle&) = delete;
  database_handle& operator=(const database_handle&) = delete;
  virtual ~database_handle() = default;
  /// The database's URL.
  [[nodiscard]] virtual std::string url() const = 0;

  /// The URL migrations run on (store_options::direct_url): the database server's own address
  /// when url() goes through a pooler; url() itself, the default, otherwise.
  [[nodiscard]] virtual std::string direct_url() const { return url(); }

  /// The database's read replicas (store_options::read_urls); none, the default, for a
  /// backend without them. The suites then run with reads routed to them.
  [[nodiscard]] virtual std::vector<std::string> read_urls() const { return {}; }
};

/// A database_handle made of a URL and what removes the database (the tear-down hook), for
/// backends whose set-up is done before the handle is made.
class scratch_database final : public database_handle {
 public:
  /// @param tear_down called once, when the handle is destroyed; it must not throw.
  scratch_database(std::string url, std::function<void()> tear_down)
      : url_(std::move(url)), tear_down_(std::move(tear_down)) {}
  ~scratch_database() override {
    if (tear_down_) {
      tear_down_();
    }
  }
  [[nodiscard]] std::string url() const override { return url_; }

 private:
  std::string url_;
  std::function<void()> tear_down_;
};

/// What a backend may or may not be able to do. A test that needs a capability the context
/// does not declare is reported as skipped ("not applicable"), never as passed.
enum class capability {
  /// A migration's DDL rolls back with its transaction (PostgreSQL, SQLite; not MySQL).
  transactional_ddl,
  /// Concurrent claim_pending calls skip the rows another transaction has claimed instead of
  /// waiting for it (PostgreSQL's FOR UPDATE SKIP LOCKED).
  skip_locked,
};

/// The capability's name, as in the skip message ("skip_locked").
[[nodiscard]] inline std::string_view name_of(capability c) {
  switch (c) {
    case capability::transactional_ddl:
      return "transactional_ddl";
    case capability::skip_locked:
      return "skip_locked";
  }
  return "unknown";
}

struct backend_context {
  /// The backend's name, used in test names ("sqlite").
  std::string name{};
  /// Creates a new, empty database (the set-up hook; the handle's destructor tears it down).
  std::function<std::unique_ptr<database_handle>()> fresh_database{};
  /// What the backend declares it can do beyond the common contract.
  std::set<capability> capabilities{};
  /// Folders searched for plugins before the default one, as EVSTORE_PLUGIN_PATH (where the
  /// plugin under test was built); empty for the installed plugins.
  std::string plugin_path{};
  /// The `evstore` command, for the tests that run it as separate processes (concurrent
  /// migrators, status exit codes); empty reports them as not applicable.
  std::filesystem::path evstore_command{};

  /// Whether the backend declares `c`.
  [[nodiscard]] bool declares(capability c) const { return capabilities.contains(c); }

  friend std::ostream& operator<<(std::ostream& out, const backend_context& context) {
    return out << context.name;
  }
};

/// The message of a test skipped because `context` does not declare `c`.
[[nodiscard]] inline std::string not_applicable(const backend_context& context, capability c) {
  return "not applicable: backend " + context.name + " does not declare capability " +
         std::string(name_of(c));
}

/// The plugins `context` names (its plugin_path, then the default folder), loaded once per
/// path and kept for the life of the process.
[[nodiscard]] const plugin_registry& plugins_of(const backend_context& context);

/// The store options a suite opens `database` with: the context's plugin path, and the
/// database's direct URL for migrations when it differs from its URL.
[[nodiscard]] store_options options_for(const backend_context& context,
                                        const database_handle& database);

}  // namespace evstore::conformance

/// Skips the current test, as not applicable, unless the suite's backend declares capability
/// `c` (an evstore::conformance::capability enumerator name).
#define EVSTORE_CONFORMANCE_REQUIRE(c)                               \
  if (!GetParam().declares(::evstore::conformance::capability::c))   \
  GTEST_SKIP() << ::evstore::conformance::not_applicable(GetParam(), \
                                                         ::evstore::conformance::capability::c)
