#include <array>
#include <chrono>
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

constexpr std::string_view ascending_cursor = "media.timeline.asc";
constexpr std::string_view descending_cursor = "media.timeline.desc";

std::optional<media> select_media(detail::connection_source& source, connection& conn,
                                  const uuid& id) {
  const auto& text = source.text("media.get", [](const dialect& sql) {
    return fmt::format("SELECT {} FROM media WHERE id = {}", detail::media_columns(sql),
                       sql.uuid_from_text(bindings::placeholder(0)));
  });
  bindings b;
  b.text(id.to_string());
  auto rows = detail::fetch_all<detail::media_row>(conn, text, b);
  return rows.empty() ? std::nullopt : std::optional(std::move(rows.front()));
}

// `metadata` is m.metadata as detail::validated_metadata_text wrote it.
media insert_media(detail::connection_source& source, connection& conn, const new_media& m,
                   const std::string& metadata) {
  const auto& text = source.text("media.add", [](const dialect& sql) {
    const auto p = [](std::size_t i) { return bindings::placeholder(i); };
    return fmt::format(
        "INSERT INTO media (id, event_id, kind, uri, mime_type, size_bytes, checksum, "
        "captured_at, status, metadata) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "RETURNING {}",
        sql.uuid_from_text(p(0)), sql.uuid_from_text(p(1)), p(2), p(3), p(4), p(5), p(6),
        sql.timestamp_from_micros(p(7)), p(8), sql.json_from_text(p(9)),
        detail::media_columns(sql));
  });
  bindings b;
  // Not value_or: its argument, a new UUID, would be made even when an id is given.
  b.text((m.id ? *m.id : uuid::v7()).to_string());
  b.text(m.event_id.to_string());
  b.text(std::string(to_string(m.kind)));
  b.text(m.uri);
  b.optional_text(m.mime_type);
  b.optional_integer(m.size_bytes);
  b.optional_text(m.checksum);
  b.integer(micros(m.captured_at));
  b.text(std::string(to_string(m.status)));
  b.text(metadata);
  return std::move(detail::fetch_all<detail::media_row>(conn, text, b).front());
}

// Below this many items, add_many inserts row by row (each a kept prepared statement): a bulk
// path's fixed cost pays only for larger batches.
constexpr std::size_t bulk_threshold = 16;

constexpr std::array<bulk_column, 12> bulk_columns = {{{"id", bulk_type::uuid},
                                                       {"event_id", bulk_type::uuid},
                                                       {"kind", bulk_type::text},
                                                       {"uri", bulk_type::text},
                                                       {"mime_type", bulk_type::text},
                                                       {"size_bytes", bulk_type::integer},
                                                       {"checksum", bulk_type::text},
                                                       {"captured_at", bulk_type::instant},
                                                       {"status", bulk_type::text},
                                                       {"metadata", bulk_type::json},
                                                       {"created_at", bulk_type::instant},
                                                       {"updated_at", bulk_type::instant}}};

bulk_value optional_value(const std::optional<std::string>& value) {
  return value ? bulk_value(*value) : bulk_value();
}

// Inserts `items` through the backend's bulk path, when it has one, and returns them as
// stored; metadata[i] is the text of items[i].metadata. created_at and updated_at are the
// database's time, read once and given with every row, so that they are what was stored even where
// "now" changes from one statement of a transaction to the next (SQLite; PostgreSQL's now() is the
// transaction's start).
std::optional<std::vector<media>> copy_media(detail::connection_source& source, connection& conn,
                                             const std::vector<new_media>& items,
                                             const std::vector<std::string>& metadata) {
  const auto& now = source.text("media.stored_at", [](const dialect& sql) {
    return fmt::format("SELECT {}", sql.micros_from_timestamp(sql.now()));
  });
  bindings none;
  const std::int64_t stored_at = detail::query_integer(conn, now, none);
  std::vector<media> added;
  added.reserve(items.size());
  std::vector<bulk_value> values;
  values.reserve(items.size() * bulk_columns.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const new_media& item = items[i];
    media& m = added.emplace_back();
    m.id = item.id ? *item.id : uuid::v7();
    m.event_id = item.event_id;
    m.kind = item.kind;
    m.uri = item.uri;
    m.mime_type = item.mime_type;
    m.size_bytes = item.size_bytes;
    m.checksum = item.checksum;
    m.captured_at = item.captured_at;
    m.status = item.status;
    m.metadata = item.metadata;
    m.created_at = detail::from_micros(stored_at);
    m.updated_at = m.created_at;
    values.emplace_back(m.id.to_string());
    values.emplace_back(m.event_id.to_string());
    values.emplace_back(std::string(to_string(m.kind)));
    values.emplace_back(m.uri);
    values.push_back(optional_value(m.mime_type));
    values.push_back(m.size_bytes ? bulk_value(*m.size_bytes) : bulk_value());
    values.push_back(optional_value(m.checksum));
    values.emplace_back(std::int64_t{micros(m.captured_at)});
    values.emplace_back(std::string(to_string(m.status)));
    values.emplace_back(metadata[i]);
    values.emplace_back(stored_at);
    values.emplace_back(stored_at);
  }
  const auto start = std::chrono::steady_clock::now();
  if (!conn.backend().copy_rows(conn.session(), "media", bulk_columns, values)) {
    return std::nullopt;
  }
  conn.log_statement("bulk insert into media", std::chrono::steady_clock::now() - start,
                     static_cast<long long>(items.size()),
                     [&](bool) { return fmt::format("{} value(s), not logged", values.size()); });
  return added;
}

// Sets one column of one item to the value bound first in `b` (placeholder 0), with the
// statement named `shape` whose SET clause `assignment` gives; the touch trigger moves
// updated_at on, so the row is read back.
std::optional<media> update_column(detail::connection_source& source, const uuid& id,
                                   std::string_view shape,
                                   std::string (*assignment)(const dialect& sql), bindings& b,
                                   std::source_location caller = std::source_location::current()) {
  std::optional<media> updated;
  source.run(
      [&](connection& conn) {
        const auto& text = source.text(shape, [assignment](const dialect& sql) {
          return fmt::format("UPDATE media SET {} WHERE id = {}", assignment(sql),
                             sql.uuid_from_text(bindings::placeholder(1)));
        });
        b.text(id.to_string());
        const auto changed = detail::execute_counting(conn, text, b);
        updated = changed == 0 ? std::nullopt : select_media(source, conn, id);
      },
      caller);
  return updated;
}

}  // namespace

media_repository::media_repository(std::shared_ptr<detail::connection_source> source)
    : source_(std::move(source)) {}

media media_repository::add(const new_media& item) {
  const auto metadata = detail::validated_metadata_text(item, source_->limits());
  media added;
  source_->run([&](connection& conn) { added = insert_media(*source_, conn, item, metadata); });
  return added;
}

std::vector<media> media_repository::add_many(const std::vector<new_media>& items) {
  std::vector<std::string> metadata;
  metadata.reserve(items.size());
  for (const auto& item : items) {
    metadata.push_back(detail::validated_metadata_text(item, source_->limits()));
  }
  std::vector<media> added;
  source_->run_atomically([&](connection& conn) {
    if (items.size() >= bulk_threshold) {
      if (auto copied = copy_media(*source_, conn, items, metadata)) {
        added = std::move(*copied);
        return;
      }
    }
    added.clear();
    added.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      added.push_back(insert_media(*source_, conn, items[i], metadata[i]));
    }
  });
  return added;
}

std::optional<media> media_repository::get(const uuid& id) {
  std::optional<media> found;
  source_->read([&](connection& conn) { found = select_media(*source_, conn, id); });
  return found;
}

std::optional<media> media_repository::update_status(const uuid& id, media_status status) {
  bindings b;
  b.text(std::string(to_string(status)));
  return update_column(
      *source_, id, "media.update_status",
      [](const dialect&) { return "status = " + bindings::placeholder(0); }, b);
}

std::optional<media> media_repository::update_metadata(const uuid& id,
                                                       const nlohmann::json& metadata) {
  bindings b;
  b.text(detail::validated_metadata_text(metadata, source_->limits()));
  return update_column(
      *source_, id, "media.update_metadata",
      [](const dialect& sql) {
        return "metadata = " + sql.json_from_text(bindings::placeholder(0));
      },
      b);
}

bool media_repository::remove(const uuid& id) {
  long long removed = 0;
  source_->run([&](connection& conn) {
    const auto& text = source_->text("media.remove", [](const dialect& sql) {
      return fmt::format("DELETE FROM media WHERE id = {}",
                         sql.uuid_from_text(bindings::placeholder(0)));
    });
    bindings b;
    b.text(id.to_string());
    removed = detail::execute_counting(conn, text, b);
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
  // The statement's shape: its direction and which optional conditions it has.
  std::string shape = "media.timeline.";
  shape += ascending ? 'a' : 'd';
  shape += range.from ? 'f' : '-';
  shape += range.to ? 't' : '-';
  shape += after ? 'c' : '-';
  page<media> result;
  source_->read([&](connection& conn) {
    const auto& text = source_->text(shape, [&](const dialect& sql) {
      std::size_t next = 0;
      const auto p = [&next] { return bindings::placeholder(next++); };
      auto conditions = fmt::format("event_id = {}", sql.uuid_from_text(p()));
      if (range.from) {
        conditions += fmt::format(" AND captured_at >= {}", sql.timestamp_from_micros(p()));
      }
      if (range.to) {
        conditions += fmt::format(" AND captured_at < {}", sql.timestamp_from_micros(p()));
      }
      if (after) {
        const auto key = sql.timestamp_from_micros(p());
        conditions += fmt::format(" AND (captured_at, id) {} ({}, {})", ascending ? ">" : "<", key,
                                  sql.uuid_from_text(p()));
      }
      const auto order = ascending ? "ASC" : "DESC";
      // Qualified: a bare "id" would name the output column CAST(id AS text), and sort by its
      // text after the index scan instead of reading in the index's order.
      return fmt::format(
          "SELECT {} FROM media WHERE {} ORDER BY media.captured_at {}, media.id {} LIMIT {}",
          detail::media_columns(sql), conditions, order, order, p());
    });
    bindings b;
    b.text(event_id.to_string());
    if (range.from) {
      b.integer(micros(*range.from));
    }
    if (range.to) {
      b.integer(micros(*range.to));
    }
    if (after) {
      b.integer(micros(after->key));
      b.text(after->id.to_string());
    }
    // One row more than the page tells whether another page follows.
    b.integer(static_cast<long long>(request.limit) + 1);
    auto rows = detail::fetch_all<detail::media_row>(conn, text, b);
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
  source_->read([&](connection& conn) {
    const auto& text = source_->text("media.count_by_event", [](const dialect& sql) {
      return fmt::format("SELECT COUNT(*) FROM media WHERE event_id = {}",
                         sql.uuid_from_text(bindings::placeholder(0)));
    });
    bindings b;
    b.text(event_id.to_string());
    counted = detail::query_integer(conn, text, b);
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
        fmt::format("SELECT {} FROM media WHERE status = 'pending' ORDER BY media.captured_at, "
                    "media.id "
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
      claimed.push_back(*select_media(*source_, conn, item.id));
    }
  });
  return claimed;
}

}  // namespace evstore
