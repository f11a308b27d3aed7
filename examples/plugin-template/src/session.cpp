// Opening connections: the URL's path becomes SOCI's connect string, then every connection
// is set up the same way before the core sees it.

#include <chrono>

// SOCI includes sqlite3.h inside namespace sqlite_api.
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <nlohmann/json.hpp>

#include <evstore/error.hpp>
#include <evstore/json_containment.hpp>

#include "backend.hpp"

namespace templatedb {
namespace {

using sqlite_api::sqlite3_context;
using sqlite_api::sqlite3_value;

nlohmann::json json_argument(sqlite3_value* value) {
  const auto* text = reinterpret_cast<const char*>(sqlite_api::sqlite3_value_text(value));
  return nlohmann::json::parse(text == nullptr ? "null" : text, nullptr, false);
}

// templatedb_json_contains(document, pattern): the dialect's json_contains, with PostgreSQL's
// jsonb @> semantics from the SDK.
void json_contains_function(sqlite3_context* context, int, sqlite3_value** arguments) {
  const auto document = json_argument(arguments[0]);
  const auto pattern = json_argument(arguments[1]);
  if (document.is_discarded() || pattern.is_discarded()) {
    sqlite_api::sqlite3_result_error(context, "templatedb_json_contains: malformed JSON", -1);
    return;
  }
  sqlite_api::sqlite3_result_int(context, evstore::json_contains(document, pattern) ? 1 : 0);
}

// Pragmas must be set outside any transaction (PRAGMA foreign_keys inside one does nothing).
void set_up(soci::session& session, const evstore::connect_options& options) {
  session << "PRAGMA busy_timeout = " + std::to_string(options.busy_timeout.count());
  session << "PRAGMA foreign_keys = ON";
  std::string journal_mode;
  session << "PRAGMA journal_mode = WAL", soci::into(journal_mode);
  auto* native = static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
  const int result = sqlite_api::sqlite3_create_function_v2(
      native, "templatedb_json_contains", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
      &json_contains_function, nullptr, nullptr, nullptr);
  if (result != SQLITE_OK) {
    throw_for_result_code(result, "templatedb: adding templatedb_json_contains failed");
  }
}

}  // namespace

std::unique_ptr<soci::session> templatedb_backend::open(
    const evstore::database_url& url, const evstore::connect_options& options) const {
  // templatedb:///NAME?folder=/absolute/folder is the file /absolute/folder/NAME.db. (A '/' in
  // a URL's database name would have to be percent-encoded, so the folder is a parameter.)
  const bool one_folder_parameter = url.params.size() == 1 && url.params[0].first == "folder" &&
                                    url.params[0].second.starts_with('/');
  if (url.database.empty() || !url.host.empty() || !one_folder_parameter) {
    throw evstore::config_error(
        "templatedb: expected templatedb:///NAME?folder=/absolute/folder, with no host and no "
        "other parameter");
  }
  const std::string path = url.params[0].second + "/" + url.database + ".db";
  if (path.find_first_of("=\"") != std::string::npos) {
    throw evstore::config_error("templatedb: the path may not contain '=' or '\"': " + path);
  }
  try {
    auto session = std::make_unique<soci::session>(soci::sqlite3, path);
    set_up(*session, options);
    return session;
  } catch (const soci::sqlite3_soci_error& e) {
    throw evstore::connection_error("templatedb: cannot open " + path + ": " + e.what(),
                                    sqlite_api::sqlite3_errstr(e.result()),
                                    std::string(backend_name));
  } catch (const soci::soci_error& e) {
    throw evstore::connection_error("templatedb: cannot open " + path + ": " + e.what(), "",
                                    std::string(backend_name));
  }
}

bool templatedb_backend::single_connection_database(const evstore::database_url&) const {
  return false;  // always a file: every connection sees the same database
}

std::string templatedb_backend::server_version(soci::session& session) const {
  try {
    std::string version;
    session << "SELECT sqlite_version()", soci::into(version);
    return version;
  } catch (...) {
    rethrow_translated(std::current_exception(), "reading the version");
  }
}

std::chrono::microseconds templatedb_backend::ping(soci::session& session,
                                                   std::chrono::milliseconds /*deadline*/) const {
  // An embedded library cannot hang on a server; a client-server database must bound the
  // wait by `deadline` on the client side (see evstore/backend.hpp).
  const auto start = std::chrono::steady_clock::now();
  try {
    int one = 0;
    session << "SELECT 1", soci::into(one);
  } catch (...) {
    rethrow_translated(std::current_exception(), "ping");
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

void templatedb_backend::backup(const evstore::database_url&, const std::filesystem::path&) const {
  throw evstore::config_error("templatedb: backup is not supported by this example plugin");
}

void templatedb_backend::restore(const evstore::database_url&, const std::filesystem::path&) const {
  throw evstore::config_error("templatedb: restore is not supported by this example plugin");
}

}  // namespace templatedb
