#include "evstore/prometheus.hpp"

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>

#include <spdlog/fmt/fmt.h>

#include "evstore/version.hpp"

namespace evstore {

namespace {

// Seconds, printed as the shortest decimal that reads back the same.
template <typename Rep, typename Period>
double seconds(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<double>(d).count();
}

class exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  template <typename Value>
  void sample(std::string_view name, Value value, std::string_view labels = {}) {
    if (labels.empty()) {
      text_ += fmt::format("{} {}\n", name, value);
    } else {
      text_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
  }
  template <typename Value>
  void single(std::string_view name, std::string_view type, std::string_view help, Value value) {
    family(name, type, help);
    sample(name, value);
  }
  // A histogram from cumulative bucket counts (upper bounds in seconds).
  template <typename Bounds, typename Counts>
  void histogram(std::string_view name, std::string_view help, const Bounds& bounds,
                 const Counts& cumulative, std::uint64_t count, double sum) {
    family(name, "histogram", help);
    histogram_samples(name, {}, bounds, cumulative, count, sum);
  }
  // The samples of one labelled series of a histogram whose family is already written.
  template <typename Bounds, typename Counts>
  void histogram_samples(std::string_view name, std::string_view labels, const Bounds& bounds,
                         const Counts& cumulative, std::uint64_t count, double sum) {
    const std::string bucket = fmt::format("{}_bucket", name);
    const std::string prefix = labels.empty() ? std::string() : fmt::format("{},", labels);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      sample(bucket, cumulative[i], fmt::format("{}le=\"{}\"", prefix, seconds(bounds[i])));
    }
    sample(bucket, count, fmt::format("{}le=\"+Inf\"", prefix));
    sample(fmt::format("{}_sum", name), sum, labels);
    sample(fmt::format("{}_count", name), count, labels);
  }
  [[nodiscard]] std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

// A label value as the exposition format quotes it: backslash, double quote and line feed
// escaped.
std::string label_value(std::string_view text) {
  std::string quoted;
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      quoted += '\\';
      quoted += c;
    } else if (c == '\n') {
      quoted += "\\n";
    } else {
      quoted += c;
    }
  }
  return quoted;
}

// Where reads ran, and how far behind each read replica is (evstore/replicas.hpp).
void replica_metrics(exposition& out, const store_statistics& store) {
  out.family("evstore_reads_total", "counter",
             "Reads (get, list, count, timeline, count_by_event) by where they ran: the primary "
             "or a read replica (host:port/database)");
  out.sample("evstore_reads_total", store.primary_reads, "target=\"primary\"");
  for (const auto& r : store.replicas) {
    out.sample("evstore_reads_total", r.reads, fmt::format("target=\"{}\"", label_value(r.name)));
  }
  out.single("evstore_replica_fallbacks_total", "counter",
             "Reads that went to the primary though read replicas are configured",
             store.replica_fallbacks);
  if (store.replicas.empty()) {
    return;
  }
  out.family("evstore_replica_state", "gauge",
             "Each read replica at its last check: 1 for its state (unknown, up, lagging or "
             "down), 0 for the others");
  for (const auto& r : store.replicas) {
    for (const auto state :
         {replica_state::unknown, replica_state::up, replica_state::lagging, replica_state::down}) {
      out.sample("evstore_replica_state", r.state == state ? 1 : 0,
                 fmt::format("replica=\"{}\",state=\"{}\"", label_value(r.name), to_string(state)));
    }
  }
  out.family("evstore_replica_lag_bytes", "gauge",
             "How far each read replica's replay is behind the primary's write position");
  for (const auto& r : store.replicas) {
    out.sample("evstore_replica_lag_bytes", r.lag_bytes,
               fmt::format("replica=\"{}\"", label_value(r.name)));
  }
  out.family("evstore_replica_lag_seconds", "gauge",
             "How long ago the primary wrote the oldest change each read replica has not "
             "replayed");
  for (const auto& r : store.replicas) {
    out.sample("evstore_replica_lag_seconds", seconds(r.lag),
               fmt::format("replica=\"{}\"", label_value(r.name)));
  }
}

}  // namespace

std::string prometheus_text(const pool_metrics& pool, const store_statistics& store,
                            const health_statistics& health, const health_report& last) {
  exposition out;
  out.family("evstore_build_info", "gauge", "evstore's version; always 1");
  out.sample("evstore_build_info", 1, fmt::format("version=\"{}\"", EVSTORE_VERSION_STRING));
  out.family("evstore_pooler_info", "gauge",
             "The connection pooler between evstore and the database (none, session, "
             "transaction); always 1");
  out.sample("evstore_pooler_info", 1, fmt::format("mode=\"{}\"", to_string(last.pooler)));

  out.single("evstore_pool_size", "gauge", "Connections that exist: idle, in use and being opened",
             pool.size);
  out.single("evstore_pool_max", "gauge", "The most connections the pool may hold", pool.max_size);
  out.single("evstore_pool_idle", "gauge", "Open connections waiting in the pool", pool.idle);
  out.single("evstore_pool_in_use", "gauge", "Connections handed out", pool.in_use);
  out.single("evstore_pool_opening", "gauge", "Connections being opened", pool.opening);
  out.single("evstore_pool_waiting", "gauge", "Callers waiting for a connection", pool.waiting);
  out.single("evstore_pool_connections_created_total", "counter", "Connections opened",
             pool.created);
  out.family("evstore_pool_connections_closed_total", "counter", "Connections closed, by reason");
  for (const auto& [reason, count] :
       {std::pair{"broken", pool.destroyed_broken}, std::pair{"idle", pool.destroyed_idle},
        std::pair{"lifetime", pool.destroyed_lifetime},
        std::pair{"validation", pool.destroyed_validation},
        std::pair{"closed", pool.destroyed_closed}}) {
    out.sample("evstore_pool_connections_closed_total", count,
               fmt::format("reason=\"{}\"", reason));
  }
  out.single("evstore_pool_acquire_timeouts_total", "counter",
             "Acquisitions that gave up waiting for a connection", pool.timeouts);
  out.histogram("evstore_pool_acquire_seconds", "Time taken to acquire a connection",
                pool_metrics::acquire_buckets, pool.acquire_histogram, pool.acquire_count,
                seconds(pool.acquire_time_total));

  out.family("evstore_operations_total", "counter",
             "Repository operations finished, failed ones included, by operation");
  for (const auto& op : store.operations) {
    out.sample("evstore_operations_total", op.calls, fmt::format("operation=\"{}\"", op.operation));
  }
  out.family("evstore_operation_errors_total", "counter",
             "Repository operations that failed, by operation");
  for (const auto& op : store.operations) {
    out.sample("evstore_operation_errors_total", op.errors,
               fmt::format("operation=\"{}\"", op.operation));
  }
  out.family("evstore_operation_duration_seconds", "histogram",
             "Time a repository operation took, waiting for a connection and retries included");
  for (const auto& op : store.operations) {
    out.histogram_samples("evstore_operation_duration_seconds",
                          fmt::format("operation=\"{}\"", op.operation),
                          operation_statistics::duration_buckets, op.duration_histogram, op.calls,
                          seconds(op.duration_total));
  }
  out.family("evstore_transactions_total", "counter",
             "Units of work finished, by outcome: committed, failed, or commit_unknown (the "
             "connection was lost after COMMIT was sent)");
  for (const auto& [outcome, count] : {std::pair{"committed", store.transactions_committed},
                                       std::pair{"failed", store.transactions_failed},
                                       std::pair{"commit_unknown", store.commit_unknown}}) {
    out.sample("evstore_transactions_total", count, fmt::format("outcome=\"{}\"", outcome));
  }
  out.single("evstore_transaction_retries_total", "counter",
             "Unit-of-work attempts retried after a transient error or a lost connection",
             store.transaction_retries);
  replica_metrics(out, store);

  out.family("evstore_health_status", "gauge",
             "The latest health check: 1 for its status (up, degraded or down), 0 for the others");
  for (const auto status : {health_status::up, health_status::degraded, health_status::down}) {
    out.sample("evstore_health_status", last.status == status ? 1 : 0,
               fmt::format("status=\"{}\"", to_string(status)));
  }
  out.family("evstore_health_checks_total", "counter",
             "Health checks run against the database, by the status they gave");
  std::uint64_t checks = 0;
  for (const auto status : {health_status::up, health_status::degraded, health_status::down}) {
    const auto count = health.checks[static_cast<std::size_t>(status)];
    checks += count;
    out.sample("evstore_health_checks_total", count,
               fmt::format("status=\"{}\"", to_string(status)));
  }
  out.single("evstore_health_check_timeouts_total", "counter",
             "Health checks that gave up at their timeout", health.timeouts);
  out.single("evstore_health_cache_hits_total", "counter",
             "Health check requests answered from the cache", health.cache_hits);
  out.histogram("evstore_health_check_duration_seconds", "Time a health check took",
                health_statistics::duration_buckets, health.duration_histogram, checks,
                seconds(health.duration_total));
  if (last.latency) {
    out.single("evstore_health_latency_seconds", "gauge",
               "Round trip of the latest health check's SELECT 1", seconds(*last.latency));
  }
  if (last.schema) {
    out.single("evstore_schema_pending_migrations", "gauge",
               "Migrations not yet applied, as of the latest health check", last.schema->pending);
  }
  return out.take();
}

}  // namespace evstore
