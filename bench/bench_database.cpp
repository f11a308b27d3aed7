#include "bench_database.hpp"

#include <cstdlib>
#include <iostream>
#include <random>

#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>

#include <evstore/migrator.hpp>
#include <evstore/plugin_registry.hpp>

#include "dataset.hpp"

namespace evstore::bench {
namespace {

void append(std::string& info, std::string_view key, std::string_view value) {
  info += info.empty() ? "" : " ";
  info += key;
  info += "='";
  for (const char c : value) {
    if (c == '\'' || c == '\\') {
      info += '\\';
    }
    info += c;
  }
  info += '\'';
}

// The database `name` on `pooler`'s host and port, its parameters kept, and the pooler
// declared as a transaction-mode one (whatever `pooler` said of it): no startup options,
// statement_timeout set per transaction, every statement unnamed.
database_url through_pooler(const database_url& pooler, const std::string& name) {
  auto url = pooler;
  url.database = name;
  std::erase_if(url.params, [](const auto& param) { return param.first == "pooler"; });
  url.params.emplace_back("pooler", "transaction");
  return url;
}

std::string random_suffix() {
  std::random_device device;
  return fmt::format("{:08x}{:08x}", device(), device());
}

}  // namespace

std::string libpq_conninfo(const database_url& url) {
  // Every host of a multi-host URL, as the PostgreSQL plugin passes them: comma lists, an
  // empty port for a host without one (libpq's default), no port list when none has one.
  std::string hosts = url.host;
  std::string ports = url.port ? std::to_string(*url.port) : std::string();
  bool any_port = url.port.has_value();
  for (const auto& [host, port] : url.fallback_hosts) {
    hosts += ',' + host;
    ports += ',' + (port ? std::to_string(*port) : std::string());
    any_port = any_port || port.has_value();
  }
  std::string info;
  const std::pair<std::string_view, std::string> fields[] = {
      {"host", hosts},
      {"port", any_port ? ports : std::string()},
      {"dbname", url.database},
      {"user", url.user},
      {"password", url.password}};
  for (const auto& [key, value] : fields) {
    if (!value.empty()) {
      append(info, key, value);
    }
  }
  for (const auto& [key, value] : url.params) {
    append(info, key, value);
  }
  return info;
}

bench_database::bench_database(backend_kind kind, const database_url& server,
                               const std::filesystem::path& sqlite_dir,
                               const std::optional<database_url>& pooler,
                               const std::optional<database_url>& standby)
    : server_(server) {
  const char* plugin_path = std::getenv("EVSTORE_PLUGIN_PATH");
  plugins_ = std::make_unique<plugin_registry>(plugin_registry::discover(
      plugin_registry::search_path(plugin_path == nullptr ? "" : plugin_path)));
  target_.kind = kind;
  name_ = "evstore_bench_" + random_suffix();
  if (kind == backend_kind::postgresql) {
    // The name is made of [a-z0-9_] only, so it needs no quoting.
    connection::open(*plugins_, server_, {}).execute("CREATE DATABASE " + name_);
    target_.url = server_;
    target_.url.database = name_;
    if (pooler) {
      target_.pooled_url = through_pooler(*pooler, name_);
    }
    if (standby) {
      target_.standby_url = *standby;
      target_.standby_url->database = name_;
    }
  } else {
    std::filesystem::create_directories(sqlite_dir);
    target_.url = parse_database_url(
        "sqlite://" + std::filesystem::absolute(sqlite_dir / (name_ + ".db")).string());
  }
  try {
    // Loading the --scale datasets (10 million rows) takes longer than the default
    // statement_timeout: the benchmark's own connection has none.
    connect_options unlimited;
    unlimited.statement_timeout = std::chrono::milliseconds::zero();
    admin_ = std::make_unique<connection>(connection::open(*plugins_, target_.url, unlimited));
    migrator(*admin_, {}, {}).up();
  } catch (...) {
    drop();
    throw;
  }
}

bench_database::~bench_database() {
  drop();
}

void bench_database::drop() noexcept {
  admin_.reset();
  try {
    if (target_.kind == backend_kind::postgresql) {
      connection::open(*plugins_, server_, {})
          .execute("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } else {
      for (const auto* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(target_.url.database + suffix);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "evstore-bench: could not remove the benchmark database " << name_ << ": "
              << e.what() << "\n";
  }
}

void bench_database::reset() {
  if (target_.kind == backend_kind::postgresql) {
    execute("TRUNCATE media, events");
  } else {
    execute("DELETE FROM media");
    execute("DELETE FROM events");
    // Every contender starts with an empty write-ahead log.
    execute("PRAGMA wal_checkpoint(TRUNCATE)");
  }
}

void bench_database::load(std::size_t events, std::size_t media_per_event) {
  for (const auto& statement : load_statements(target_.kind, events, media_per_event)) {
    execute(statement);
  }
  if (target_.kind == backend_kind::sqlite) {
    execute("PRAGMA wal_checkpoint(TRUNCATE)");
  }
}

void bench_database::execute(const std::string& sql) {
  admin_->execute(sql);
}

long long bench_database::query_integer(const std::string& sql) {
  long long value = 0;
  soci::indicator null{};
  try {
    admin_->session() << sql, soci::into(value, null);
  } catch (...) {
    admin_->backend().rethrow_translated(std::current_exception(), sql);
  }
  return null == soci::i_null ? 0 : value;
}

std::string bench_database::micros(std::string_view column) const {
  return target_.kind == backend_kind::postgresql
             ? fmt::format("CAST(EXTRACT(EPOCH FROM {}) * 1000000 AS bigint)", column)
             : std::string(column);
}

}  // namespace evstore::bench
