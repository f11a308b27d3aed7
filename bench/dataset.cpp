#include "dataset.hpp"

#include <spdlog/fmt/fmt.h>

namespace evstore::bench {
namespace {

constexpr long long checksum_modulus = 1000003;

uuid numbered(std::size_t n, id_set set, int kind) {
  return uuid::parse(
      fmt::format("{:08x}-{:04x}-7000-8000-{:012x}", n, static_cast<std::uint16_t>(set), kind));
}

timestamp at_micros(long long us) {
  return timestamp(std::chrono::microseconds(us));
}

}  // namespace

uuid event_id(std::size_t n, id_set set) {
  return numbered(n, set, 0);
}

uuid media_id(std::size_t n, id_set set) {
  return numbered(n, set, 1);
}

new_event make_event(std::size_t n) {
  new_event e;
  e.title = fmt::format("event {}", n);
  e.description = "A benchmark event";
  e.status = event_status::scheduled;
  e.start_time = at_micros(epoch_of_data_us + static_cast<long long>(n) * 60000000 + 123456);
  e.location_name = "Hall A";
  e.coordinates = geo_point{52.5, 13.4};
  e.metadata = {{"source", "bench"}, {"n", n}};
  return e;
}

std::vector<new_event> make_events(std::size_t count, id_set set) {
  std::vector<new_event> events;
  events.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    events.push_back(make_event(n));
    events.back().id = event_id(n, set);
  }
  return events;
}

std::vector<std::vector<new_media>> make_media_batches(std::size_t count, std::size_t events,
                                                       std::size_t batch_size, id_set set) {
  std::vector<std::vector<new_media>> batches;
  for (std::size_t j = 0; j < count; ++j) {
    if (j % batch_size == 0) {
      batches.emplace_back().reserve(batch_size);
    }
    new_media m;
    m.id = media_id(j, set);
    m.event_id = event_id(j % events);
    m.kind = media_kind::image;
    m.uri = fmt::format("https://media.example.com/bench/{}.jpg", j);
    m.mime_type = "image/jpeg";
    m.size_bytes = 1000000 + static_cast<long long>(j);
    m.checksum = fmt::format("sha256:{}", j);
    m.captured_at = at_micros(epoch_of_data_us + static_cast<long long>(j / events) * 1000000 +
                              static_cast<long long>(j % 997));
    m.status = media_status::ready;
    m.metadata = {{"camera", "bench"}, {"sequence", j}};
    batches.back().push_back(std::move(m));
  }
  return batches;
}

media_checksum expected_checksum(const std::vector<std::vector<new_media>>& batches) {
  media_checksum sum;
  for (const auto& batch : batches) {
    for (const auto& m : batch) {
      sum.captured += m.captured_at.time_since_epoch().count() % checksum_modulus;
      sum.size += m.size_bytes.value_or(0);
    }
  }
  return sum;
}

std::vector<std::string> load_statements(backend_kind kind, std::size_t events,
                                         std::size_t media_per_event) {
  const auto media = events * media_per_event;
  std::vector<std::string> statements;
  if (kind == backend_kind::postgresql) {
    statements.push_back(fmt::format(
        "INSERT INTO events (id, title, description, status, start_time, location_name, "
        "latitude, longitude, metadata) "
        "SELECT CAST(lpad(to_hex(i), 8, '0') || '-0000-7000-8000-000000000000' AS uuid), "
        "'event ' || i, 'A benchmark event', 'scheduled', "
        "TIMESTAMPTZ 'epoch' + ({} + i * 60000000) * INTERVAL '1 microsecond', 'Hall A', "
        "52.5, 13.4, CAST('{{\"source\": \"bench\", \"n\": ' || i || '}}' AS jsonb) "
        "FROM generate_series(CAST(0 AS bigint), {}) AS i",
        epoch_of_data_us, static_cast<long long>(events) - 1));
    statements.push_back(fmt::format(
        "INSERT INTO media (id, event_id, kind, uri, mime_type, size_bytes, checksum, "
        "captured_at, status, metadata) "
        "SELECT CAST(lpad(to_hex(j), 8, '0') || '-0000-7000-8000-000000000001' AS uuid), "
        "CAST(lpad(to_hex(j % {0}), 8, '0') || '-0000-7000-8000-000000000000' AS uuid), "
        "'image', 'https://media.example.com/bench/' || j || '.jpg', 'image/jpeg', "
        "1000000 + j, 'sha256:' || j, "
        "TIMESTAMPTZ 'epoch' + ({1} + (j / {0}) * 1000000 + j % 997) * INTERVAL "
        "'1 microsecond', 'ready', "
        "CAST('{{\"camera\": \"bench\", \"sequence\": ' || j || '}}' AS jsonb) "
        "FROM generate_series(CAST(0 AS bigint), {2}) AS j",
        events, epoch_of_data_us, static_cast<long long>(media) - 1));
  } else {
    statements.push_back(fmt::format(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {}) "
        "INSERT INTO events (id, title, description, status, start_time, "
        "location_name, latitude, longitude, metadata) "
        "SELECT printf('%08x-0000-7000-8000-000000000000', i), 'event ' || i, "
        "'A benchmark event', 'scheduled', {} + i * 60000000, 'Hall A', 52.5, 13.4, "
        "'{{\"source\":\"bench\",\"n\":' || i || '}}' FROM n",
        events, epoch_of_data_us));
    statements.push_back(fmt::format(
        "WITH RECURSIVE n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n WHERE j + 1 < {2}) "
        "INSERT INTO media (id, event_id, kind, uri, mime_type, size_bytes, checksum, "
        "captured_at, status, metadata) "
        "SELECT printf('%08x-0000-7000-8000-000000000001', j), "
        "printf('%08x-0000-7000-8000-000000000000', j % {0}), 'image', "
        "'https://media.example.com/bench/' || j || '.jpg', 'image/jpeg', 1000000 + j, "
        "'sha256:' || j, {1} + (j / {0}) * 1000000 + j % 997, 'ready', "
        "'{{\"camera\":\"bench\",\"sequence\":' || j || '}}' FROM n",
        events, epoch_of_data_us, media));
  }
  if (media == 0) {
    statements.pop_back();
  }
  statements.emplace_back("ANALYZE");
  return statements;
}

}  // namespace evstore::bench
