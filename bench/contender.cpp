#include "contender.hpp"

#include <array>
#include <stdexcept>

namespace evstore::bench {
namespace {

template <typename T>
sql_value optional_value(const std::optional<T>& item) {
  return item ? sql_value(*item) : sql_value();
}

}  // namespace

std::string_view to_string(backend_kind kind) noexcept {
  return kind == backend_kind::sqlite ? "sqlite" : "postgresql";
}

std::string_view to_string(contender_kind kind) noexcept {
  // In the order of contender_kind's values.
  constexpr std::array<std::string_view, 6> names = {"evstore",    "raw",       "soci",
                                                     "raw_insert", "pgbouncer", "replica"};
  return names.at(static_cast<std::size_t>(kind));
}

std::unique_ptr<contender> open_contender(contender_kind kind, const target& db,
                                          std::size_t connections) {
  switch (kind) {
    case contender_kind::evstore:
      return open_evstore_contender(db, connections, evstore_route::direct);
    case contender_kind::pgbouncer:
      if (!db.pooled_url) {
        throw std::logic_error("the pgbouncer contender needs --pgbouncer-url");
      }
      return open_evstore_contender(db, connections, evstore_route::pooler);
    case contender_kind::replica:
      if (!db.standby_url) {
        throw std::logic_error("the replica contender needs --standby-url");
      }
      return open_evstore_contender(db, connections, evstore_route::replica);
    case contender_kind::soci:
      return open_soci_contender(db, connections);
    case contender_kind::raw:
    case contender_kind::raw_insert:
      return db.kind == backend_kind::postgresql
                 ? open_libpq_contender(db, connections, kind == contender_kind::raw_insert)
                 : open_sqlite_contender(db, connections);
  }
  throw std::logic_error("unknown contender");
}

std::vector<sql_value> event_values(const new_event& item) {
  return {item.id.value().to_string(),
          item.title,
          optional_value(item.description),
          std::string(to_string(item.status)),
          item.start_time,
          optional_value(item.end_time),
          optional_value(item.location_name),
          item.coordinates ? sql_value(item.coordinates->latitude) : sql_value(),
          item.coordinates ? sql_value(item.coordinates->longitude) : sql_value(),
          item.metadata.dump()};
}

std::vector<sql_value> media_values(const new_media& item) {
  return {item.id.value().to_string(),
          item.event_id.to_string(),
          std::string(to_string(item.kind)),
          item.uri,
          optional_value(item.mime_type),
          item.size_bytes ? sql_value(static_cast<long long>(*item.size_bytes)) : sql_value(),
          optional_value(item.checksum),
          item.captured_at,
          std::string(to_string(item.status)),
          item.metadata.dump()};
}

}  // namespace evstore::bench
