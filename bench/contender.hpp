#pragma once

// A contender: one way of doing the benchmark's units of work (evstore's public API, directly
// or through PgBouncer, raw libpq or sqlite3, plain SOCI). Every contender takes the same
// inputs and gives the same results (evstore's model values), so that the benchmark compares
// like with like.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <evstore/config.hpp>
#include <evstore/model.hpp>

namespace evstore::bench {

enum class backend_kind : std::uint8_t { sqlite, postgresql };

[[nodiscard]] std::string_view to_string(backend_kind kind) noexcept;

/// The database the benchmark runs in, migrated by evstore's migrator.
struct target {
  backend_kind kind = backend_kind::sqlite;
  database_url url{};
  /// The same database through a transaction-mode pooler (--pgbouncer-url), declared with
  /// `pooler=transaction`; only for PostgreSQL, and only when the option is given.
  std::optional<database_url> pooled_url;
  /// The same database on a streaming standby of the server (--standby-url); only for
  /// PostgreSQL, and only when the option is given.
  std::optional<database_url> standby_url;
};

/// How many media a timeline page holds.
inline constexpr std::size_t page_size = 50;

/// One way of doing the work. Thread-safe: W5 calls it from several threads, which share the
/// contender's `connections` connections.
class contender {
 public:
  contender() = default;
  contender(const contender&) = delete;
  contender& operator=(const contender&) = delete;
  virtual ~contender() = default;

  /// Stores one event in a transaction of its own and returns it as stored.
  virtual event create_event(const new_event& item) = 0;
  /// Stores a batch of media in one transaction.
  virtual void add_media(const std::vector<new_media>& batch) = 0;
  /// The first page of an event's timeline: up to page_size media in capture order, all columns.
  virtual std::vector<media> timeline(const uuid& event_id) = 0;
  /// The event with this id, if there is one.
  virtual std::optional<event> get_event(const uuid& id) = 0;
  /// The share of its reads so far that a read replica served; none without replicas.
  [[nodiscard]] virtual std::optional<double> standby_share() const { return std::nullopt; }
};

/// The contenders. raw_insert is raw libpq with multi-row INSERTs instead of COPY for
/// add_media (PostgreSQL only; elsewhere the same as raw). pgbouncer is evstore on
/// target::pooled_url, the same database through PgBouncer in transaction mode. replica is
/// evstore with target::standby_url as its read replica, each call a request of its own
/// (a causal scope), as a stateless service makes them.
enum class contender_kind : std::uint8_t { evstore, raw, soci, raw_insert, pgbouncer, replica };

/// Where the evstore contender sends its work.
enum class evstore_route : std::uint8_t {
  direct,   ///< target::url
  pooler,   ///< target::pooled_url, with target::url as the direct URL
  replica,  ///< target::url, reads to target::standby_url
};

[[nodiscard]] std::string_view to_string(contender_kind kind) noexcept;

/// Opens a contender with `connections` connections to `db`. The raw and SOCI contenders open
/// them and prepare their statements now; evstore's pool opens them on first use (the
/// workloads warm up before they measure).
/// @throws std::logic_error for pgbouncer when `db` has no pooled_url, for replica when it has
///         no standby_url.
[[nodiscard]] std::unique_ptr<contender> open_contender(contender_kind kind, const target& db,
                                                        std::size_t connections);

/// evstore on `db` by `route`.
[[nodiscard]] std::unique_ptr<contender> open_evstore_contender(const target& db,
                                                                std::size_t connections,
                                                                evstore_route route);
[[nodiscard]] std::unique_ptr<contender> open_libpq_contender(const target& db,
                                                              std::size_t connections,
                                                              bool multi_row_insert);
[[nodiscard]] std::unique_ptr<contender> open_sqlite_contender(const target& db,
                                                               std::size_t connections);
[[nodiscard]] std::unique_ptr<contender> open_soci_contender(const target& db,
                                                             std::size_t connections);

/// A value to bind: null, text, integer, real or timestamp (each contender writes timestamps
/// as its database wants them).
using sql_value = std::variant<std::monostate, std::string, long long, double, timestamp>;

/// The columns an insert writes, in the order of event_values and media_values.
inline constexpr std::string_view event_insert_columns =
    "id, title, description, status, start_time, end_time, location_name, latitude, longitude, "
    "metadata";
inline constexpr std::string_view media_insert_columns =
    "id, event_id, kind, uri, mime_type, size_bytes, checksum, captured_at, status, metadata";
inline constexpr std::size_t insert_column_count = 10;

/// The values of an event's event_insert_columns; the id must be given.
[[nodiscard]] std::vector<sql_value> event_values(const new_event& item);
/// The values of a media item's media_insert_columns; the id must be given.
[[nodiscard]] std::vector<sql_value> media_values(const new_media& item);

/// Columns, in the order read_event and read_media read them.
inline constexpr std::string_view event_columns =
    "id, title, description, status, start_time, end_time, location_name, latitude, longitude, "
    "metadata, created_at, updated_at, version";
inline constexpr std::string_view media_columns =
    "id, event_id, kind, uri, mime_type, size_bytes, checksum, captured_at, status, metadata, "
    "created_at, updated_at";

/// Reads an event from a row of event_columns. `Row` gives null(i), text(i), integer(i),
/// real(i) and time(i) for column i.
template <typename Row>
event read_event(const Row& row) {
  event e;
  e.id = uuid::parse(row.text(0));
  e.title = row.text(1);
  if (!row.null(2)) {
    e.description = std::string(row.text(2));
  }
  e.status = parse_event_status(row.text(3));
  e.start_time = row.time(4);
  if (!row.null(5)) {
    e.end_time = row.time(5);
  }
  if (!row.null(6)) {
    e.location_name = std::string(row.text(6));
  }
  if (!row.null(7) && !row.null(8)) {
    e.coordinates = geo_point{row.real(7), row.real(8)};
  }
  e.metadata = nlohmann::json::parse(row.text(9));
  e.created_at = row.time(10);
  e.updated_at = row.time(11);
  e.version = row.integer(12);
  return e;
}

/// Reads a media item from a row of media_columns; see read_event.
template <typename Row>
media read_media(const Row& row) {
  media m;
  m.id = uuid::parse(row.text(0));
  m.event_id = uuid::parse(row.text(1));
  m.kind = parse_media_kind(row.text(2));
  m.uri = row.text(3);
  if (!row.null(4)) {
    m.mime_type = std::string(row.text(4));
  }
  if (!row.null(5)) {
    m.size_bytes = row.integer(5);
  }
  if (!row.null(6)) {
    m.checksum = std::string(row.text(6));
  }
  m.captured_at = row.time(7);
  m.status = parse_media_status(row.text(8));
  m.metadata = nlohmann::json::parse(row.text(9));
  m.created_at = row.time(10);
  m.updated_at = row.time(11);
  return m;
}

}  // namespace evstore::bench
