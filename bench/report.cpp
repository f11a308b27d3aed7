#include "report.hpp"

#include <algorithm>
#include <string_view>

#include <spdlog/fmt/fmt.h>

namespace evstore::bench {
namespace {

constexpr std::array listed = {contender_kind::evstore,   contender_kind::raw,
                               contender_kind::soci,      contender_kind::raw_insert,
                               contender_kind::pgbouncer, contender_kind::replica};

// A contender's medians over repeats.
struct summary {
  double throughput = 0;
  double p50 = 0;
  double p99 = 0;
  bool latencies = false;
};

std::optional<summary> summarize(const workload_result& result, contender_kind which) {
  const auto found = result.runs.find(which);
  if (found == result.runs.end() || found->second.empty()) {
    return std::nullopt;
  }
  std::vector<double> throughputs, p50s, p99s;
  for (const auto& run : found->second) {
    throughputs.push_back(run.throughput);
    if (!run.latencies_us.empty()) {
      p50s.push_back(percentile(run.latencies_us, 50));
      p99s.push_back(percentile(run.latencies_us, 99));
    }
  }
  return summary{median(throughputs), median(p50s), median(p99s), !p50s.empty()};
}

// A row for evstore another way (through PgBouncer, with a standby), compared with evstore
// direct (`ev`) rather than with raw; empty when that way did not run.
std::string variant_row(const workload_result& result, const summary& ev, contender_kind kind,
                        std::string_view what) {
  const auto variant = summarize(result, kind);
  if (!variant) {
    return {};
  }
  const auto pair = [&](auto member) {
    return variant->latencies ? fmt::format("{:.0f}/{:.0f}", (*variant).*member, ev.*member)
                              : std::string("-");
  };
  const auto p50_ratio =
      variant->latencies
          ? fmt::format(
                "{:.3f}",
                ratio(result, kind, contender_kind::evstore, speed::median_operation).value_or(0))
          : std::string("-");
  return fmt::format(
      "{:<10} {:<8} {:>8} {:<10} {:>11.1f} {:>11} {:>11} {:>8.3f} {:>8} {:>8}  {:<23} {:<23}"
      "  ({}: ratios and us against evstore direct)\n",
      "", "", "", "", variant->throughput, "", "",
      ratio(result, kind, contender_kind::evstore).value_or(0), "", p50_ratio, pair(&summary::p50),
      pair(&summary::p99), what);
}

}  // namespace

double percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  const auto rank =
      static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank),
                   values.end());
  return values[rank];
}

double median(std::vector<double> values) {
  return percentile(std::move(values), 50);
}

std::optional<double> ratio(const workload_result& result, contender_kind which,
                            contender_kind baseline, speed by) {
  const auto a = result.runs.find(which);
  const auto b = result.runs.find(baseline);
  if (a == result.runs.end() || b == result.runs.end() || a->second.empty()) {
    return std::nullopt;
  }
  std::vector<double> ratios;
  for (std::size_t i = 0; i < a->second.size() && i < b->second.size(); ++i) {
    const auto& mine = a->second[i];
    const auto& theirs = b->second[i];
    ratios.push_back(by == speed::throughput
                         ? mine.throughput / theirs.throughput
                         : percentile(theirs.latencies_us, 50) / percentile(mine.latencies_us, 50));
  }
  return median(ratios);
}

std::string bench_line(const workload_result& result) {
  std::string line =
      fmt::format("BENCH backend={} workload={}", to_string(result.backend), result.workload);
  for (const auto which : {contender_kind::evstore, contender_kind::raw, contender_kind::soci}) {
    line += fmt::format(" {}={:.1f}", to_string(which),
                        summarize(result, which).value_or(summary{}).throughput);
  }
  line += fmt::format(" ratio={:.3f}", ratio(result, contender_kind::evstore).value_or(0));
  line += fmt::format(" unit={}", result.unit);
  line += fmt::format(" soci_ratio={:.3f}", ratio(result, contender_kind::soci).value_or(0));
  if (const auto alt = summarize(result, contender_kind::raw_insert)) {
    line +=
        fmt::format(" raw_insert={:.1f} ratio_raw_insert={:.3f}", alt->throughput,
                    ratio(result, contender_kind::evstore, contender_kind::raw_insert).value_or(0));
  }
  if (const auto pooled = summarize(result, contender_kind::pgbouncer)) {
    line +=
        fmt::format(" pgbouncer={:.1f} pgbouncer_ratio={:.3f}", pooled->throughput,
                    ratio(result, contender_kind::pgbouncer, contender_kind::evstore).value_or(0));
    if (pooled->latencies) {
      line += fmt::format(
          " pgbouncer_p50_ratio={:.3f}",
          ratio(result, contender_kind::pgbouncer, contender_kind::evstore, speed::median_operation)
              .value_or(0));
    }
  }
  if (const auto replicated = summarize(result, contender_kind::replica)) {
    std::vector<double> shares;
    for (const auto& run : result.runs.at(contender_kind::replica)) {
      shares.push_back(run.standby_share.value_or(0));
    }
    line += fmt::format(" replica={:.1f} replica_ratio={:.3f} standby_share={:.3f}",
                        replicated->throughput,
                        ratio(result, contender_kind::replica, contender_kind::evstore).value_or(0),
                        median(shares));
  }
  if (summarize(result, contender_kind::evstore).value_or(summary{}).latencies) {
    line += fmt::format(" p50_ratio={:.3f}", ratio(result, contender_kind::evstore,
                                                   contender_kind::raw, speed::median_operation)
                                                 .value_or(0));
  }
  line += fmt::format(" rows={} repeats={}", result.rows,
                      result.runs.empty() ? 0 : result.runs.begin()->second.size());
  for (const auto which : listed) {
    const auto s = summarize(result, which);
    if (s && s->latencies) {
      line +=
          fmt::format(" {0}_p50_us={1:.1f} {0}_p99_us={2:.1f}", to_string(which), s->p50, s->p99);
    }
  }
  return line;
}

std::string table(const std::vector<workload_result>& results) {
  std::string text = fmt::format(
      "{:<10} {:<8} {:>8} {:<10} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8}  {:<23} {:<23}\n",
      "backend", "workload", "rows", "unit", "evstore", "raw", "soci", "ev/raw", "soci/raw",
      "p50 e/r", "p50 us (ev/raw/soci)", "p99 us (ev/raw/soci)");
  for (const auto& result : results) {
    const auto get = [&](contender_kind which) {
      return summarize(result, which).value_or(summary{});
    };
    const auto ev = get(contender_kind::evstore);
    const auto raw = get(contender_kind::raw);
    const auto soci = get(contender_kind::soci);
    const auto latency = [&](auto member) {
      return ev.latencies
                 ? fmt::format("{:.0f}/{:.0f}/{:.0f}", ev.*member, raw.*member, soci.*member)
                 : std::string("-");
    };
    const auto p50_ratio =
        ev.latencies ? fmt::format("{:.3f}", ratio(result, contender_kind::evstore,
                                                   contender_kind::raw, speed::median_operation)
                                                 .value_or(0))
                     : std::string("-");
    text += fmt::format(
        "{:<10} {:<8} {:>8} {:<10} {:>11.1f} {:>11.1f} {:>11.1f} {:>8.3f} {:>8.3f} {:>8}  {:<23} "
        "{:<23}\n",
        to_string(result.backend), result.workload, result.rows, result.unit, ev.throughput,
        raw.throughput, soci.throughput, ratio(result, contender_kind::evstore).value_or(0),
        ratio(result, contender_kind::soci).value_or(0), p50_ratio, latency(&summary::p50),
        latency(&summary::p99));
    if (const auto alt = summarize(result, contender_kind::raw_insert)) {
      text += fmt::format(
          "{:<10} {:<8} {:>8} {:<10} {:>11} {:>11.1f} {:>11} {:>8.3f}  (raw = multi-row INSERT)\n",
          "", "", "", "", "", alt->throughput, "",
          ratio(result, contender_kind::evstore, contender_kind::raw_insert).value_or(0));
    }
    text += variant_row(result, ev, contender_kind::pgbouncer, "evstore through PgBouncer");
    text += variant_row(result, ev, contender_kind::replica, "evstore with reads on the standby");
  }
  return text;
}

}  // namespace evstore::bench
