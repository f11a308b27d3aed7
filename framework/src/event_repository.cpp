#include <utility>

#include <spdlog/fmt/fmt.h>

#include "evstore/detail/connection_source.hpp"
#include "evstore/error.hpp"
#include "evstore/repositories.hpp"
#include "evstore/validation.hpp"
#include "rows.hpp"
#include "validated.hpp"

namespace evstore {
namespace {

using detail::bindings;
using detail::micros;

constexpr std::string_view ascending_cursor = "events.start_time.asc";
constexpr std::string_view descending_cursor = "events.start_time.desc";

// The column values of an event, in the order of column_list.
struct event_values {
  static constexpr std::string_view column_list =
      "id, title, description, status, start_time, end_time, location_name, latitude, "
      "longitude, metadata";
  static constexpr std::size_t count = 10;

  // The values' expressions, of the placeholders numbered from `first` on.
  static std::string placeholders(const dialect& sql, std::size_t first) {
    const auto p = [first](std::size_t i) { return bindings::placeholder(first + i); };
    return fmt::format("{}, {}, {}, {}, {}, {}, {}, {}, {}, {}", sql.uuid_from_text(p(0)), p(1),
                       p(2), p(3), sql.timestamp_from_micros(p(4)), sql.timestamp_from_micros(p(5)),
                       p(6), p(7), p(8), sql.json_from_text(p(9)));
  }

  // Binds the values, in placeholders' order; `metadata` is e.metadata as
  // detail::validated_metadata_text wrote it.
  static void bind(bindings& b, const uuid& id, const new_event& e, const std::string& metadata) {
    b.text(id.to_string());
    b.text(e.title);
    b.optional_text(e.description);
    b.text(std::string(to_string(e.status)));
    b.integer(micros(e.start_time));
    b.optional_integer(e.end_time ? std::optional(micros(*e.end_time)) : std::nullopt);
    b.optional_text(e.location_name);
    b.optional_real(e.coordinates ? std::optional(e.coordinates->latitude) : std::nullopt);
    b.optional_real(e.coordinates ? std::optional(e.coordinates->longitude) : std::nullopt);
    b.text(metadata);
  }
};

new_event as_new_event(const event& e) {
  return {e.id,       e.title,         e.description, e.status,  e.start_time,
          e.end_time, e.location_name, e.coordinates, e.metadata};
}

std::optional<event> select_event(detail::connection_source& source, connection& conn,
                                  const uuid& id) {
  const auto& text = source.text("events.get", [](const dialect& sql) {
    return fmt::format("SELECT {} FROM events WHERE id = {}", detail::event_columns(sql),
                       sql.uuid_from_text(bindings::placeholder(0)));
  });
  bindings b;
  b.text(id.to_string());
  auto rows = detail::fetch_all<detail::event_row>(conn, text, b);
  return rows.empty() ? std::nullopt : std::optional(std::move(rows.front()));
}

// Inserts `e`; when `idempotent`, an event already stored under its id is returned instead.
event insert_event(detail::connection_source& source, connection& conn, const new_event& e,
                   const std::string& metadata, bool idempotent) {
  const auto& text = source.text(
      idempotent ? "events.create_idempotent" : "events.create", [idempotent](const dialect& sql) {
        return fmt::format("INSERT INTO events ({}) VALUES ({}){} RETURNING {}",
                           event_values::column_list, event_values::placeholders(sql, 0),
                           idempotent ? " ON CONFLICT (id) DO NOTHING" : "",
                           detail::event_columns(sql));
      });
  const uuid id = e.id ? *e.id : uuid::v7();
  bindings b;
  event_values::bind(b, id, e, metadata);
  auto rows = detail::fetch_all<detail::event_row>(conn, text, b);
  if (rows.empty()) {
    // ON CONFLICT DO NOTHING inserted nothing: the id is stored already.
    return *select_event(source, conn, id);
  }
  return std::move(rows.front());
}

// The WHERE conditions of a filter, each a bound comparison.
std::string where(const dialect& sql, bindings& b, const event_filter& filter) {
  std::vector<std::string> conditions{"1 = 1"};
  if (!filter.statuses.empty()) {
    std::vector<std::string> names;
    for (const auto status : filter.statuses) {
      names.push_back(b.text(std::string(to_string(status))));
    }
    conditions.push_back(fmt::format("status IN ({})", fmt::join(names, ", ")));
  }
  if (filter.starts_from) {
    conditions.push_back(fmt::format(
        "start_time >= {}", sql.timestamp_from_micros(b.integer(micros(*filter.starts_from)))));
  }
  if (filter.starts_before) {
    conditions.push_back(fmt::format(
        "start_time < {}", sql.timestamp_from_micros(b.integer(micros(*filter.starts_before)))));
  }
  if (filter.within) {
    const auto& box = *filter.within;
    conditions.push_back(fmt::format("latitude BETWEEN {} AND {}", b.real(box.south_west.latitude),
                                     b.real(box.north_east.latitude)));
    const auto west = b.real(box.south_west.longitude);
    const auto east = b.real(box.north_east.longitude);
    conditions.push_back(box.south_west.longitude <= box.north_east.longitude
                             ? fmt::format("longitude BETWEEN {} AND {}", west, east)
                             : fmt::format("(longitude >= {} OR longitude <= {})", west, east));
  }
  if (filter.metadata_contains) {
    conditions.push_back(sql.json_contains("metadata", b.text(filter.metadata_contains->dump())));
  }
  if (filter.title_contains) {
    conditions.push_back(sql.contains_ignoring_case("title", b.text(*filter.title_contains)));
  }
  return fmt::format("{}", fmt::join(conditions, " AND "));
}

void validate(const event_filter& filter, const validation_limits& limits) {
  if (filter.metadata_contains) {
    if (!filter.metadata_contains->is_object()) {
      throw validation_error("metadata_contains", "metadata_contains: must be a JSON object");
    }
    validate_metadata(*filter.metadata_contains, limits);
  }
  if (filter.within) {
    const auto& box = *filter.within;
    for (const auto& [name, point] : {std::pair{"within.south_west", box.south_west},
                                      std::pair{"within.north_east", box.north_east}}) {
      if (!(point.latitude >= -90 && point.latitude <= 90) ||
          !(point.longitude >= -180 && point.longitude <= 180)) {
        throw validation_error(name, fmt::format("{}: latitude must be -90..90 and longitude "
                                                 "-180..180",
                                                 name));
      }
    }
    if (box.south_west.latitude > box.north_east.latitude) {
      throw validation_error("within", "within: the south-west corner is north of the north-east");
    }
  }
  if (filter.title_contains && !is_valid_utf8(*filter.title_contains)) {
    throw validation_error("title_contains", "title_contains: not valid UTF-8");
  }
}

}  // namespace

event_repository::event_repository(std::shared_ptr<detail::connection_source> source)
    : source_(std::move(source)) {}

event event_repository::create(const new_event& e) {
  const auto metadata = detail::validated_metadata_text(e, source_->limits());
  event created;
  source_->run(
      [&](connection& conn) { created = insert_event(*source_, conn, e, metadata, false); });
  return created;
}

event event_repository::create_idempotent(const new_event& e) {
  if (!e.id) {
    throw validation_error("id", "id: an idempotent create needs a client-supplied id");
  }
  const auto metadata = detail::validated_metadata_text(e, source_->limits());
  event created;
  source_->run(
      [&](connection& conn) { created = insert_event(*source_, conn, e, metadata, true); });
  return created;
}

std::vector<event> event_repository::create_many(const std::vector<new_event>& events) {
  std::vector<std::string> metadata;
  metadata.reserve(events.size());
  for (const auto& e : events) {
    metadata.push_back(detail::validated_metadata_text(e, source_->limits()));
  }
  std::vector<event> created;
  source_->run_atomically([&](connection& conn) {
    created.clear();
    for (std::size_t i = 0; i < events.size(); ++i) {
      created.push_back(insert_event(*source_, conn, events[i], metadata[i], false));
    }
  });
  return created;
}

std::optional<event> event_repository::get(const uuid& id) {
  std::optional<event> found;
  source_->read([&](connection& conn) { found = select_event(*source_, conn, id); });
  return found;
}

std::optional<event> event_repository::update(const uuid& id, std::int64_t expected_version,
                                              const event_patch& patch) {
  std::optional<event> updated;
  source_->run_atomically([&](connection& conn) {
    const auto current = select_event(*source_, conn, id);
    if (!current) {
      updated.reset();
      return;
    }
    if (current->version != expected_version) {
      throw conflict(fmt::format("event {} is at version {}, not {}: re-read it and retry",
                                 id.to_string(), current->version, expected_version));
    }
    const auto next = apply_patch(*current, patch);
    const auto metadata = detail::validated_metadata_text(next, source_->limits());
    const auto& text = source_->text("events.update", [](const dialect& sql) {
      return fmt::format("UPDATE events SET ({}) = ({}) WHERE id = {} AND version = {}",
                         event_values::column_list, event_values::placeholders(sql, 0),
                         sql.uuid_from_text(bindings::placeholder(event_values::count)),
                         bindings::placeholder(event_values::count + 1));
    });
    bindings b;
    event_values::bind(b, id, as_new_event(next), metadata);
    b.text(id.to_string());
    b.integer(expected_version);
    // The touch trigger moves version and updated_at on; SQLite's RETURNING would not see
    // what its AFTER trigger wrote, so the row is read back.
    if (detail::execute_counting(conn, text, b) == 0) {
      throw conflict(
          fmt::format("event {} changed meanwhile: re-read it and retry", id.to_string()));
    }
    updated = select_event(*source_, conn, id);
  });
  return updated;
}

bool event_repository::remove(const uuid& id) {
  long long removed = 0;
  source_->run([&](connection& conn) {
    const auto& text = source_->text("events.remove", [](const dialect& sql) {
      return fmt::format("DELETE FROM events WHERE id = {}",
                         sql.uuid_from_text(bindings::placeholder(0)));
    });
    bindings b;
    b.text(id.to_string());
    removed = detail::execute_counting(conn, text, b);
  });
  return removed > 0;
}

page<event> event_repository::list(const event_filter& filter, const page_request& request,
                                   sort_direction direction) {
  validate(request);
  validate(filter, source_->limits());
  const bool ascending = direction == sort_direction::ascending;
  const auto kind = ascending ? ascending_cursor : descending_cursor;
  const auto after =
      request.cursor ? std::optional(decode_cursor(kind, *request.cursor)) : std::nullopt;
  page<event> result;
  source_->read([&](connection& conn) {
    const auto& sql = source_->sql();
    bindings b;
    auto conditions = where(sql, b, filter);
    if (after) {
      conditions += fmt::format(" AND (start_time, id) {} ({}, {})", ascending ? ">" : "<",
                                sql.timestamp_from_micros(b.integer(micros(after->key))),
                                sql.uuid_from_text(b.text(after->id.to_string())));
    }
    const auto order = ascending ? "ASC" : "DESC";
    // One row more than the page tells whether another page follows.
    auto rows = detail::fetch_all<detail::event_row>(
        conn,
        // Qualified: a bare "id" would name the output column CAST(id AS text), and sort
        // by its text after the index scan instead of reading in the index's order.
        fmt::format("SELECT {} FROM events WHERE {} ORDER BY events.start_time {}, events.id {} "
                    "LIMIT {}",
                    detail::event_columns(sql), conditions, order, order,
                    b.integer(static_cast<long long>(request.limit) + 1)),
        b);
    if (rows.size() > request.limit) {
      rows.resize(request.limit);
      result.next_cursor = encode_cursor(kind, {rows.back().start_time, rows.back().id});
    }
    result.items = std::move(rows);
  });
  return result;
}

std::int64_t event_repository::count(const event_filter& filter) {
  validate(filter, source_->limits());
  long long counted = 0;
  source_->read([&](connection& conn) {
    bindings b;
    const auto conditions = where(source_->sql(), b, filter);
    counted = detail::query_integer(
        conn, fmt::format("SELECT COUNT(*) FROM events WHERE {}", conditions), b);
  });
  return counted;
}

}  // namespace evstore
