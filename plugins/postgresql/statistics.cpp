// The statements that cost the database the most time, from the pg_stat_statements extension.
// Read-only: creating an extension needs a superuser and is the operator's decision, so when
// tracking is off the answer says exactly what to run instead of doing it.

#include <string>

#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

constexpr const char* extension = "pg_stat_statements";
// Where the execution-time columns got their current names (total_time before).
constexpr int exec_time_columns_since = 130000;

// What the server and this database have of the extension.
struct extension_state {
  std::string database;
  bool available = false;  // its files are installed with the server
  bool loaded = false;     // in shared_preload_libraries: its settings exist
  std::string schema;      // where CREATE EXTENSION put it; empty when not created here
  int server_version = 0;  // server_version_num
};

extension_state inspect(soci::session& session) {
  extension_state state;
  long long available = 0;
  soci::indicator loaded = soci::i_null;
  soci::indicator created = soci::i_null;
  std::string loaded_setting;
  session << "SELECT current_database(), "
             "(SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'), "
             "current_setting('pg_stat_statements.max', true), "
             "(SELECT quote_ident(n.nspname) FROM pg_extension e "
             "JOIN pg_namespace n ON n.oid = e.extnamespace "
             "WHERE e.extname = 'pg_stat_statements'), "
             "current_setting('server_version_num')::int",
      soci::into(state.database), soci::into(available), soci::into(loaded_setting, loaded),
      soci::into(state.schema, created), soci::into(state.server_version);
  state.available = available > 0;
  state.loaded = loaded == soci::i_ok;
  if (created != soci::i_ok) {
    state.schema.clear();
  }
  return state;
}

std::string advice(const extension_state& state) {
  const auto create =
      fmt::format("as a superuser, connected to database \"{}\", run:\n    CREATE EXTENSION {};",
                  state.database, extension);
  if (!state.available) {
    return fmt::format(
        "the server has no {} extension installed. Install the server's contrib modules (on "
        "Debian they come with the postgresql-NN package), add {} to shared_preload_libraries "
        "in postgresql.conf, restart the server, then {}",
        extension, extension, create);
  }
  if (!state.loaded) {
    return fmt::format(
        "the server does not load {}{}. In postgresql.conf set\n"
        "    shared_preload_libraries = '{}'\n"
        "(keeping any libraries already listed there), restart the server{}",
        extension, state.schema.empty() ? "" : " (the extension is created, but not loaded)",
        extension, state.schema.empty() ? fmt::format(", then {}", create) : ".");
  }
  return fmt::format("the server loads {}, but the extension is not created in this database: {}",
                     extension, create);
}

}  // namespace

statement_statistics postgresql_backend::top_statements(soci::session& session,
                                                        std::size_t limit) const {
  try {
    statement_statistics out;
    const auto state = inspect(session);
    if (!state.loaded || state.schema.empty()) {
      out.status = statement_statistics_status::not_enabled;
      out.advice = advice(state);
      return out;
    }
    const bool renamed = state.server_version >= exec_time_columns_since;
    const auto sql = fmt::format(
        "SELECT query, calls, {0}, {1}, rows FROM {2}.pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "ORDER BY {0} DESC LIMIT :limit",
        renamed ? "total_exec_time" : "total_time", renamed ? "mean_exec_time" : "mean_time",
        state.schema);
    auto top = static_cast<long long>(limit);
    statement_statistic row;
    soci::indicator query = soci::i_ok;
    long long calls = 0;
    long long rows = 0;
    soci::statement st = (session.prepare << sql, soci::into(row.query, query), soci::into(calls),
                          soci::into(row.total_ms), soci::into(row.mean_ms), soci::into(rows),
                          soci::use(top, "limit"));
    st.execute();
    while (st.fetch()) {
      if (query != soci::i_ok) {
        row.query = "<query text not available>";
      }
      row.calls = static_cast<std::uint64_t>(calls);
      row.rows = static_cast<std::uint64_t>(rows);
      out.statements.push_back(row);
    }
    out.status = statement_statistics_status::available;
    out.source = extension;
    return out;
  } catch (...) {
    rethrow_translated(std::current_exception(), "reading pg_stat_statements");
  }
}

}  // namespace evstore::postgresql
