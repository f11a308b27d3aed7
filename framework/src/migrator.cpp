#include "evstore/migrator.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <utility>

#include <soci/soci.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "evstore/error.hpp"
#include "evstore/native_statements.hpp"

#include "rows.hpp"

namespace evstore {
namespace {

constexpr std::string_view history_table = "evstore_schema_migrations";
// How much of a failing statement an error message quotes.
constexpr std::size_t quoted_statement_length = 300;

int scope_rank(const std::string& scope) {
  if (scope == builtin_scope) {
    return 0;
  }
  return scope == app_scope ? 1 : 2;
}

// The order in which migrations apply: every built-in one, then the application's.
bool applies_before(const migration_id& a, const migration_id& b) {
  return std::pair(scope_rank(a.scope), a.version) < std::pair(scope_rank(b.scope), b.version);
}

const dialect& require_dialect(const connection& connection) {
  const auto* dialect = connection.backend().sql_dialect();
  if (dialect == nullptr) {
    throw migration_error(fmt::format("backend {} has no SQL dialect: it cannot run migrations",
                                      connection.backend_name()));
  }
  return *dialect;
}

std::string default_applied_by() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const char* user = getenv("USER");
  return fmt::format("{}@{}", user != nullptr ? user : "unknown", host);
}

std::string quote_statement(const std::string& statement) {
  if (statement.size() <= quoted_statement_length) {
    return statement;
  }
  return statement.substr(0, quoted_statement_length) + "...";
}

// What the database said about a failure, as the backend's one mapping classifies it.
struct failure_description {
  std::string message;
  std::string native_code;
};

failure_description describe(const backend& backend, std::exception_ptr failure,
                             std::string_view context) {
  failure_description description{"an unknown failure", ""};
  try {
    backend.rethrow_translated(failure, context);
  } catch (const error& e) {
    description = {e.what(), e.native_code()};
  } catch (const std::exception& e) {
    description.message = e.what();
  }
  return description;
}

// Holds the cross-process migration lock for as long as it lives.
class migration_lock {
 public:
  migration_lock(connection& connection, const dialect& dialect, std::chrono::milliseconds timeout)
      : connection_(connection), dialect_(dialect) {
    if (!dialect_.lock_migrations(connection_.session(), timeout)) {
      const auto holder = dialect_.migration_lock_holder(connection_.session());
      throw migration_error(
          fmt::format("another migrator holds the migration lock ({}); gave up after {} ms (raise "
                      "EVSTORE_MIGRATION_LOCK_TIMEOUT to wait longer)",
                      holder.value_or("holder unknown"), timeout.count()));
    }
  }
  migration_lock(const migration_lock&) = delete;
  migration_lock& operator=(const migration_lock&) = delete;
  ~migration_lock() {
    try {
      dialect_.unlock_migrations(connection_.session());
    } catch (const std::exception& e) {
      // A session lock also ends with its session; nothing is lost if this fails.
      spdlog::warn("releasing the migration lock failed: {}", e.what());
    }
  }

 private:
  connection& connection_;
  const dialect& dialect_;
};

}  // namespace

migration_id migration_id::parse(std::string_view text, std::string_view default_scope) {
  const auto colon = text.find(':');
  migration_id id{
      std::string(colon == std::string_view::npos ? default_scope : text.substr(0, colon)), 0};
  const auto number = colon == std::string_view::npos ? text : text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), id.version);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size() ||
      id.version < 0 || (id.scope != builtin_scope && id.scope != app_scope)) {
    throw config_error(fmt::format(
        "\"{}\" is not a migration: expected VERSION, app:VERSION or evstore:VERSION", text));
  }
  return id;
}

std::string migration_id::to_string() const {
  return fmt::format("{}:{}", scope, version);
}

const char* to_string(migration_state state) noexcept {
  switch (state) {
    case migration_state::applied:
      return "applied";
    case migration_state::pending:
      return "pending";
    case migration_state::modified:
      return "modified";
    case migration_state::missing:
      return "missing";
  }
  return "unknown";
}

bool migration_report::up_to_date() const noexcept {
  return std::all_of(migrations.begin(), migrations.end(),
                     [](const migration_status& m) { return m.state == migration_state::applied; });
}

bool migration_report::drifted() const noexcept {
  return std::any_of(migrations.begin(), migrations.end(), [](const migration_status& m) {
    return m.state == migration_state::modified || m.state == migration_state::missing;
  });
}

struct migrator::recorded_migration {
  migration_id id;
  std::string name;
  std::string checksum;
  std::string applied_at;
  std::int64_t execution_ms = 0;
};

migrator::migrator(connection& connection, std::vector<migration> app, migrator_options options)
    : connection_(connection), dialect_(require_dialect(connection)), options_(std::move(options)) {
  for (auto& m : connection_.backend().migrations()) {
    known_.push_back({{std::string(builtin_scope), m.version}, std::move(m)});
  }
  for (auto& m : app) {
    known_.push_back({{std::string(app_scope), m.version}, std::move(m)});
  }
  if (options_.applied_by.empty()) {
    options_.applied_by = default_applied_by();
  }
}

std::vector<migrator::recorded_migration> migrator::read_history() {
  auto& session = connection_.session();
  std::vector<recorded_migration> history;
  try {
    int exists = 0;
    session << dialect_.table_exists(history_table), soci::into(exists);
    if (exists == 0) {
      return history;
    }
    // Through the statement path the repositories use: behind a transaction-mode pooler it
    // sends the statement unnamed, where SOCI's prepared statement would be a named one.
    static constexpr std::array kinds = {detail::column_kind::text, detail::column_kind::integer,
                                         detail::column_kind::text, detail::column_kind::text,
                                         detail::column_kind::text, detail::column_kind::integer};
    detail::bindings none;
    detail::run_statement(
        connection_,
        fmt::format("SELECT scope, version, name, checksum, {}, execution_ms FROM {} ORDER BY "
                    "scope, version",
                    dialect_.timestamp_text("applied_at"), history_table),
        none, 'h', kinds, [&history](const native_row& columns) {
          history.push_back(
              {.id = {.scope = std::string(columns.text(0)), .version = columns.integer(1)},
               .name = std::string(columns.text(2)),
               .checksum = std::string(columns.text(3)),
               .applied_at = std::string(columns.text(4)),
               .execution_ms = columns.integer(5)});
        });
  } catch (...) {
    connection_.backend().rethrow_translated(std::current_exception(),
                                             "reading the migration history");
  }
  return history;
}

migration_report migrator::status() {
  migration_report report;
  const auto history = read_history();
  for (const auto& known : known_) {
    migration_status line;
    line.id = known.id;
    line.name = known.definition.name;
    line.file_checksum = known.definition.checksum;
    const auto recorded = std::find_if(history.begin(), history.end(),
                                       [&](const auto& r) { return r.id == known.id; });
    if (recorded != history.end()) {
      line.state = recorded->checksum == known.definition.checksum ? migration_state::applied
                                                                   : migration_state::modified;
      line.applied_at = recorded->applied_at;
      line.execution_ms = recorded->execution_ms;
      line.recorded_checksum = recorded->checksum;
    }
    report.migrations.push_back(std::move(line));
  }
  for (const auto& recorded : history) {
    const bool known = std::any_of(known_.begin(), known_.end(),
                                   [&](const auto& k) { return k.id == recorded.id; });
    if (!known) {
      report.migrations.push_back({recorded.id, recorded.name, migration_state::missing,
                                   recorded.applied_at, recorded.execution_ms, "",
                                   recorded.checksum});
    }
  }
  std::stable_sort(report.migrations.begin(), report.migrations.end(),
                   [](const auto& a, const auto& b) { return applies_before(a.id, b.id); });
  report.lock_holder = dialect_.migration_lock_holder(connection_.session());
  return report;
}

namespace {

// Refuses to work on a database whose history disagrees with the files.
void check_drift(const migration_report& report) {
  std::vector<std::string> problems;
  for (const auto& m : report.migrations) {
    if (m.state == migration_state::modified) {
      problems.push_back(fmt::format(
          "{} ({}) was applied with checksum {} but its file now has {}; restore the file, "
          "or accept the change with `evstore migrate rehash {}`",
          m.id.to_string(), m.name, m.recorded_checksum, m.file_checksum, m.id.to_string()));
    } else if (m.state == migration_state::missing) {
      problems.push_back(fmt::format("{} ({}) is recorded as applied but no file has it",
                                     m.id.to_string(), m.name));
    }
  }
  if (!problems.empty()) {
    throw migration_error(fmt::format("the migration history disagrees with the files: {}",
                                      fmt::join(problems, "; ")));
  }
}

}  // namespace

std::vector<const migrator::known_migration*> migrator::pending(
    const migration_report& report, const std::optional<migration_id>& to) const {
  std::vector<const known_migration*> targets;
  for (const auto& known : known_) {
    if (to && applies_before(*to, known.id)) {
      break;
    }
    const auto line = std::find_if(report.migrations.begin(), report.migrations.end(),
                                   [&](const auto& m) { return m.id == known.id; });
    if (line->state == migration_state::pending) {
      targets.push_back(&known);
    }
  }
  return targets;
}

void migrator::require_direct_connection(std::string_view what) const {
  if (options_.single_transaction) {
    throw migration_error(fmt::format(
        "{} needs a direct connection to the database server: through a transaction-mode "
        "pooler only `migrate up` runs, in one transaction; set EVSTORE_DIRECT_URL (or "
        "--direct-url) to the server's own address",
        what));
  }
}

std::vector<migration_step> migrator::up_in_one_transaction(const std::optional<migration_id>& to) {
  connection_.execute(dialect_.begin_write());
  try {
    if (!dialect_.lock_migrations_in_transaction(connection_.session(), options_.lock_timeout)) {
      const auto holder = dialect_.migration_lock_holder(connection_.session());
      throw migration_error(
          fmt::format("another migrator holds the migration lock ({}); gave up after {} ms (raise "
                      "EVSTORE_MIGRATION_LOCK_TIMEOUT or --lock-timeout to wait longer)",
                      holder.value_or("holder unknown"), options_.lock_timeout.count()));
    }
    // Under the lock, as in up(): concurrent CREATE TABLE IF NOT EXISTS is not safe on
    // PostgreSQL.
    connection_.execute(dialect_.create_history_table());
    const auto report = status();
    check_drift(report);
    const auto targets = pending(report, to);
    for (const auto* target : targets) {
      if (!target->definition.transactional) {
        throw migration_error(fmt::format(
            "{} ({}) runs without a transaction ({}), which a transaction-mode pooler cannot "
            "keep on one server connection: apply it through EVSTORE_DIRECT_URL (or "
            "--direct-url), the server's own address; nothing was applied",
            target->id.to_string(), target->definition.origin, no_transaction_directive));
      }
    }
    in_one_transaction_ = true;
    std::vector<migration_step> steps;
    for (const auto* target : targets) {
      if (auto step = run(*target, true)) {
        steps.push_back(std::move(*step));
      }
    }
    in_one_transaction_ = false;
    connection_.execute("COMMIT");
    return steps;
  } catch (...) {
    in_one_transaction_ = false;
    try {
      connection_.execute("ROLLBACK");
    } catch (const std::exception& e) {
      spdlog::warn("rollback after a failed migration run failed: {}", e.what());
    }
    throw;
  }
}

std::vector<migration_step> migrator::up(const std::optional<migration_id>& to) {
  if (to &&
      std::none_of(known_.begin(), known_.end(), [&](const auto& k) { return k.id == *to; })) {
    throw migration_error(fmt::format("no migration {} to migrate up to", to->to_string()));
  }
  if (options_.single_transaction && !options_.dry_run) {
    return up_in_one_transaction(to);
  }
  std::optional<migration_lock> lock;
  if (!options_.dry_run) {
    lock.emplace(connection_, dialect_, options_.lock_timeout);
    // Created under the lock: on PostgreSQL, concurrent CREATE TABLE IF NOT EXISTS statements
    // fail with a duplicate key on pg_type_typname_nsp_index.
    connection_.execute(dialect_.create_history_table());
  }
  const auto report = status();
  check_drift(report);
  std::vector<migration_step> steps;
  for (const auto* target : pending(report, to)) {
    if (auto step = run(*target, true)) {
      steps.push_back(std::move(*step));
    }
  }
  return steps;
}

std::vector<const migrator::known_migration*> migrator::applied_newest_first() {
  const auto report = status();
  check_drift(report);
  std::vector<const known_migration*> applied;
  for (auto line = report.migrations.rbegin(); line != report.migrations.rend(); ++line) {
    if (line->state == migration_state::applied) {
      // Not missing (check_drift refused that), so a file has it.
      applied.push_back(&*std::find_if(known_.begin(), known_.end(),
                                       [&](const auto& k) { return k.id == line->id; }));
    }
  }
  return applied;
}

std::vector<migration_step> migrator::down(int steps) {
  require_direct_connection("reverting a migration");
  if (steps < 1) {
    throw migration_error(fmt::format("cannot revert {} migrations", steps));
  }
  auto targets = applied_newest_first();
  targets.resize(std::min(targets.size(), static_cast<std::size_t>(steps)));
  return revert(targets);
}

std::vector<migration_step> migrator::down_to(const migration_id& to) {
  require_direct_connection("reverting a migration");
  auto targets = applied_newest_first();
  const auto keep = std::find_if(targets.begin(), targets.end(),
                                 [&](const auto* k) { return !applies_before(to, k->id); });
  targets.erase(keep, targets.end());
  return revert(targets);
}

std::vector<migration_step> migrator::revert(const std::vector<const known_migration*>& targets) {
  // Every down script must exist before anything is touched.
  std::vector<std::string> without_down;
  for (const auto* target : targets) {
    if (!target->definition.down) {
      without_down.push_back(
          fmt::format("{} ({})", target->id.to_string(), target->definition.origin));
    }
  }
  if (!without_down.empty()) {
    throw migration_error(fmt::format("cannot revert: no down file for {}; nothing was changed",
                                      fmt::join(without_down, ", ")));
  }
  std::optional<migration_lock> lock;
  if (!options_.dry_run) {
    lock.emplace(connection_, dialect_, options_.lock_timeout);
  }
  std::vector<migration_step> steps;
  for (const auto* target : targets) {
    if (auto step = run(*target, false)) {
      steps.push_back(std::move(*step));
    }
  }
  return steps;
}

std::vector<migration_step> migrator::redo() {
  auto steps = down(1);
  if (steps.empty()) {
    throw migration_error("nothing to redo: no migration is applied");
  }
  auto again = up(steps.front().id);
  steps.insert(steps.end(), again.begin(), again.end());
  return steps;
}

void migrator::rehash(const migration_id& id) {
  require_direct_connection("rehashing a migration");
  const migration_lock lock(connection_, dialect_, options_.lock_timeout);
  const auto report = status();
  const auto line = std::find_if(report.migrations.begin(), report.migrations.end(),
                                 [&](const auto& m) { return m.id == id; });
  if (line == report.migrations.end() || line->state == migration_state::pending) {
    throw migration_error(fmt::format("cannot rehash {}: it is not applied", id.to_string()));
  }
  if (line->state == migration_state::missing) {
    throw migration_error(fmt::format("cannot rehash {}: no file has it", id.to_string()));
  }
  if (line->state == migration_state::applied) {
    return;
  }
  // SOCI executes a one-off statement when the full expression ends, after temporaries bound
  // with use() are gone: bind named values only.
  const long long version = id.version;
  try {
    connection_.session() << fmt::format(
        "UPDATE {} SET checksum = :checksum, rehashed_from = :previous WHERE scope = :scope "
        "AND version = :version",
        history_table),
        soci::use(line->file_checksum), soci::use(line->recorded_checksum), soci::use(id.scope),
        soci::use(version);
  } catch (...) {
    connection_.backend().rethrow_translated(std::current_exception(), "rehashing");
  }
  spdlog::info("rehashed {}: checksum {} replaces {}", id.to_string(), line->file_checksum,
               line->recorded_checksum);
}

std::optional<migration_step> migrator::run(const known_migration& target, bool up) {
  const auto& definition = target.definition;
  const std::string& script = up ? definition.up : *definition.down;
  migration_step step{target.id, definition.name, up, dialect_.split_statements(script), {}};
  if (options_.dry_run) {
    return step;
  }
  const bool transactional =
      up ? definition.transactional : !script.starts_with(no_transaction_directive);
  const auto& backend = connection_.backend();
  auto& session = connection_.session();
  // Named, because SOCI reads bound values after the statement's full expression ends.
  const long long version = target.id.version;
  // origin names the up file; a revert runs its down file.
  auto file = definition.origin;
  if (!up && file.ends_with(".up.sql")) {
    file.replace(file.size() - std::string_view(".up.sql").size(), std::string::npos, ".down.sql");
  }
  const auto what =
      fmt::format("{} {} ({})", up ? "applying" : "reverting", target.id.to_string(), file);
  const auto rollback = [&] {
    try {
      session << "ROLLBACK";
    } catch (const std::exception& e) {
      spdlog::warn("rollback after a failed migration failed: {}", e.what());
    }
  };
  // Inside the write transaction: has another migrator done this one meanwhile?
  const auto already_done = [&] {
    int count = 0;
    session << fmt::format("SELECT COUNT(*) FROM {} WHERE scope = :scope AND version = :version",
                           history_table),
        soci::into(count), soci::use(target.id.scope), soci::use(version);
    return (count > 0) == up;
  };

  // Inside up_in_one_transaction, the run's transaction holds every migration and its own
  // error handling rolls it back whole.
  const bool own_transaction = transactional && !in_one_transaction_;
  const auto start = std::chrono::steady_clock::now();
  if (own_transaction) {
    connection_.execute(dialect_.begin_write());
    if (already_done()) {
      rollback();
      spdlog::debug("{}: done by another migrator meanwhile", what);
      return std::nullopt;
    }
  }
  for (std::size_t i = 0; i < step.statements.size(); ++i) {
    try {
      session << step.statements[i];
    } catch (...) {
      const auto failure = describe(backend, std::current_exception(), what);
      if (own_transaction) {
        rollback();
      }
      throw migration_error(
          fmt::format("{} failed at statement {} of {}: {}\n  statement: {}\n  {}", what, i + 1,
                      step.statements.size(),
                      in_one_transaction_ ? "nothing of this run was applied"
                      : transactional     ? "nothing of it was applied"
                                          : "it ran without a transaction; statements before "
                                            "this one stay applied",
                      quote_statement(step.statements[i]), failure.message),
          failure.native_code, backend.name());
    }
  }
  step.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  const long long took_ms = step.took.count();
  try {
    if (!transactional) {
      session << dialect_.begin_write();
    }
    if (up) {
      session << fmt::format(
          "INSERT INTO {} (scope, version, name, checksum, applied_at, execution_ms, "
          "applied_by) VALUES (:scope, :version, :name, :checksum, {}, :ms, :by)",
          history_table, dialect_.now()),
          soci::use(target.id.scope), soci::use(version), soci::use(definition.name),
          soci::use(definition.checksum), soci::use(took_ms), soci::use(options_.applied_by);
    } else {
      session << fmt::format("DELETE FROM {} WHERE scope = :scope AND version = :version",
                             history_table),
          soci::use(target.id.scope), soci::use(version);
    }
    if (!in_one_transaction_) {
      session << "COMMIT";
    }
  } catch (...) {
    const auto failure = describe(backend, std::current_exception(), what);
    if (!in_one_transaction_) {
      rollback();
    }
    throw migration_error(
        fmt::format("{}: recording it in the history failed: {}", what, failure.message),
        failure.native_code, backend.name());
  }
  spdlog::debug("{}: {} statement(s) in {} ms", what, step.statements.size(), step.took.count());
  return step;
}

}  // namespace evstore
