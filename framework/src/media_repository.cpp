#include <utility>

#include <spdlog/fmt/fmt.h>

#include "evstore/detail/connection_source.hpp"
#include "evstore/error.hpp"
#include "evstore/repositories.hpp"
#include "evstore/validation.hpp"
#include "rows.hpp"

namespace evstore {
namespace {

using detail::bindings;
using detail::micros;

constexpr std::string_view ascending_cursor = "media.timeline.asc";
constexpr std::string_view descending_cursor = "media.timeline.desc";

std::optional<media> select_media(connection& conn, const dialect& sql, const uuid& id) {
  bindings b;
  const auto rows = detail::fetch_all<detail::media_row>(
      conn,
      fmt::format("SELECT {} FROM media WHERE id = {}", detail::media_columns(sql),
                  sql.uuid_from_text(b.text(id.to_string()))),
      b);
  return rows.empty() ? std::nullopt : std::optional(rows.front());
}

media insert_media(connection& conn, const dialect& sql, const new_media& m) {
  bindings b;
  const auto values = fmt::format(
      "{}, {}, {}, {}, {}, {}, {}, {}, {}, {}",
      sql.uuid_from_text(b.text(m.id.value_or(uuid::v7()).to_string())),
      sql.uuid_from_text(b.text(m.event_id.to_string())), b.text(std::string(to_string(m.kind))),
      b.text(m.uri), b.optional_text(m.mime_type), b.optional_integer(m.size_bytes),
      b.optional_text(m.checksum), sql.timestamp_from_micros(b.integer(micros(m.captured_at))),
      b.text(std::string(to_string(m.status))), sql.json_from_text(b.text(m.metadata.dump())));
  return detail::fetch_all<detail::media_row>(
             conn,
             fmt::format("INSERT INTO media (id, event_id, kind, uri, mime_type, size_bytes, "
                         "checksum, captured_at, status, metadata) VALUES ({}) RETURNING {}",
                         values, detail::media_columns(sql)),
             b)
      .front();
}

// Sets one column of one item; the touch trigger moves updated_at on, so the row is read back.
std::optional<media> update_column(detail::connection_source& source, const uuid& id,
                                   const std::string& assignment_sql, bindings& b,
                                   std::source_location caller = std::source_location::current()) {
  std::optional<media> updated;
  source.run(
      [&](connection& conn) {
        const auto& sql = source.sql();
        const auto changed = detail::execute_counting(
            conn,
            fmt::format("UPDATE media SET {} WHERE id = {}", assignment_sql,
                        sql.uuid_from_text(b.text(id.to_string()))),
            b);
        updated = changed == 0 ? std::nullopt : select_media(conn, sql, id);
      },
      caller);
  return updated;
}

}  // namespace

media_repository::media_repository(std::shared_ptr<detail::connection_source> source)
    : source_(std::move(source)) {}

media media_repository::add(const new_media& item) {
  validate(item, source_->limits());
  media added;
  source_->run([&](connection& conn) { added = insert_media(conn, source_->sql(), item); });
  return added;
}

std::vector<media> media_repository::add_many(const std::vector<new_media>& items) {
  for (const auto& item : items) {
    validate(item, source_->limits());
  }
  std::vector<media> added;
  source_->run_atomically([&](connection& conn) {
    added.clear();
    added.reserve(items.size());
    for (const auto& item : items) {
      added.push_back(insert_media(conn, source_->sql(), item));
    }
  });
  return added;
}

std::optional<media> media_repository::get(const uuid& id) {
  std::optional<media> found;
  source_->run([&](connection& conn) { found = select_media(conn, source_->sql(), id); });
  return found;
}

std::optional<media> media_repository::update_status(const uuid& id, media_status status) {
  bindings b;
  const auto assignment = "status = " + b.text(std::string(to_string(status)));
  return update_column(*source_, id, assignment, b);
}

std::optional<media> media_repository::update_metadata(const uuid& id,
                                                       const nlohmann::json& metadata) {
  validate_metadata(metadata, source_->limits());
  bindings b;
  const auto assignment = "metadata = " + source_->sql().json_from_text(b.text(metadata.dump()));
  return update_column(*source_, id, assignment, b);
}

bool media_repository::remove(const uuid& id) {
  long long removed = 0;
  source_->run([&](connection& conn) {
    bindings b;
    removed =
        detail::execute_counting(conn,
                                 fmt::format("DELETE FROM media WHERE id = {}",
                                             source_->sql().uuid_from_text(b.text(id.to_string()))),
                                 b);
  });
  return removed > 0;
}

page<media> media_repository::timeline(const uuid& event_id, const timeline_range& range,
                                       const page_request& request, sort_direction direction) {
  validate(request);
  const bool ascending = direction == sort_direction::ascending;
  const auto kind = ascending ? ascending_cursor : descending_cursor;
  const auto after =
      request.cursor ? std::optional(decode_cursor(kind, *request.cursor)) : std::nullopt;
  page<media> result;
  source_->run([&](connection& conn) {
    const auto& sql = source_->sql();
    bindings b;
    auto conditions =
        fmt::format("event_id = {}", sql.uuid_from_text(b.text(event_id.to_string())));
    if (range.from) {
      conditions += fmt::format(" AND captured_at >= {}",
                                sql.timestamp_from_micros(b.integer(micros(*range.from))));
    }
    if (range.to) {
      conditions += fmt::format(" AND captured_at < {}",
                                sql.timestamp_from_micros(b.integer(micros(*range.to))));
    }
    if (after) {
      conditions += fmt::format(" AND (captured_at, id) {} ({}, {})", ascending ? ">" : "<",
                                sql.timestamp_from_micros(b.integer(micros(after->key))),
                                sql.uuid_from_text(b.text(after->id.to_string())));
    }
    const auto order = ascending ? "ASC" : "DESC";
    auto rows = detail::fetch_all<detail::media_row>(
        conn,
        fmt::format("SELECT {} FROM media WHERE {} ORDER BY captured_at {}, id {} LIMIT {}",
                    detail::media_columns(sql), conditions, order, order,
                    b.integer(static_cast<long long>(request.limit) + 1)),
        b);
    if (rows.size() > request.limit) {
      rows.resize(request.limit);
      result.next_cursor = encode_cursor(kind, {rows.back().captured_at, rows.back().id});
    }
    result.items = std::move(rows);
  });
  return result;
}

std::int64_t media_repository::count_by_event(const uuid& event_id) {
  long long counted = 0;
  source_->run([&](connection& conn) {
    bindings b;
    counted = detail::query_integer(
        conn,
        fmt::format("SELECT COUNT(*) FROM media WHERE event_id = {}",
                    source_->sql().uuid_from_text(b.text(event_id.to_string()))),
        b);
  });
  return counted;
}

std::vector<media> media_repository::claim_pending(std::size_t limit) {
  if (limit < 1 || limit > 1000) {
    throw validation_error("limit", fmt::format("limit: must be 1 to 1000, got {}", limit));
  }
  std::vector<media> claimed;
  source_->run_atomically([&](connection& conn) {
    const auto& sql = source_->sql();
    bindings pick;
    // Concurrent claimers skip each other's rows (PostgreSQL), or take turns in their write
    // transactions (SQLite): an item is claimed once.
    const auto ids = detail::fetch_all<detail::media_row>(
        conn,
        fmt::format("SELECT {} FROM media WHERE status = 'pending' ORDER BY captured_at, id "
                    "LIMIT {}{}",
                    detail::media_columns(sql), pick.integer(static_cast<long long>(limit)),
                    sql.skip_locked_rows()),
        pick);
    claimed.clear();
    for (const auto& item : ids) {
      bindings b;
      detail::execute_counting(conn,
                               fmt::format("UPDATE media SET status = 'processing' WHERE id = {}",
                                           sql.uuid_from_text(b.text(item.id.to_string()))),
                               b);
      claimed.push_back(*select_media(conn, sql, item.id));
    }
  });
  return claimed;
}

}  // namespace evstore
