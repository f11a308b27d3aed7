#pragma once

/// @file
/// The event and media repositories: what application code calls all day. The same calls
/// behave identically on every backend (the conformance suite proves it). Every value is
/// bound as a parameter; sort and filter fields are enumerations, never SQL text. Every input
/// is validated before any SQL runs (validation_error naming the field).
///
/// A repository is a cheap handle. From `store::events()`, each call borrows a pooled
/// connection (calls that write several rows run in one transaction of their own); from
/// `transaction::events()`, each call runs in that transaction.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "evstore/export.hpp"
#include "evstore/model.hpp"
#include "evstore/page.hpp"

namespace evstore {

namespace detail {
class connection_source;
}

/// Which events `list` and `count` return; every engaged member must match.
struct event_filter {
  std::set<event_status> statuses{};         ///< any of these; empty means all
  std::optional<timestamp> starts_from{};    ///< start_time >= this
  std::optional<timestamp> starts_before{};  ///< start_time < this
  /// Coordinates inside this box (latitudes inclusive, longitudes inclusive; a box whose
  /// west > east crosses the antimeridian). Events without coordinates never match.
  struct box {
    geo_point south_west{};
    geo_point north_east{};
  };
  std::optional<box> within{};
  std::optional<nlohmann::json> metadata_contains{};  ///< an object: a subset of the metadata
  std::optional<std::string> title_contains{};        ///< case-insensitive, matched literally
};

enum class sort_direction : std::uint8_t { ascending, descending };

class EVSTORE_API event_repository {
 public:
  explicit event_repository(std::shared_ptr<detail::connection_source> source);

  /// Stores a new event and returns it as stored (id, created_at, updated_at, version 1).
  /// @throws validation_error; constraint_violation when the id is taken.
  event create(const new_event& event);

  /// Stores a new event with a client-supplied id, or returns the stored one when that id is
  /// already there (whatever its content): safe to retry after commit_unknown.
  event create_idempotent(const new_event& event);

  /// Stores several events in one transaction: all or none.
  std::vector<event> create_many(const std::vector<new_event>& events);

  [[nodiscard]] std::optional<event> get(const uuid& id);

  /// Applies `patch` if the stored version is still `expected_version`.
  /// @returns the updated event, or nullopt when there is no such event.
  /// @throws conflict when the version moved on; validation_error when the patched event
  ///         breaks a rule.
  std::optional<event> update(const uuid& id, std::int64_t expected_version,
                              const event_patch& patch);

  /// Deletes the event and its media. @returns whether it existed.
  bool remove(const uuid& id);

  /// A page of events matching `filter`, ordered by start_time then id.
  [[nodiscard]] page<event> list(const event_filter& filter, const page_request& request,
                                 sort_direction direction = sort_direction::ascending);

  [[nodiscard]] std::int64_t count(const event_filter& filter);

 private:
  std::shared_ptr<detail::connection_source> source_;
};

/// The part of an event's timeline `timeline` returns.
struct timeline_range {
  std::optional<timestamp> from{};  ///< captured_at >= from
  std::optional<timestamp> to{};    ///< captured_at < to
};

class EVSTORE_API media_repository {
 public:
  explicit media_repository(std::shared_ptr<detail::connection_source> source);

  /// @throws validation_error; constraint_violation when the event does not exist or the id
  ///         is taken.
  media add(const new_media& item);

  /// Adds several items in one transaction: all or none.
  std::vector<media> add_many(const std::vector<new_media>& items);

  [[nodiscard]] std::optional<media> get(const uuid& id);

  /// @returns the updated item, or nullopt when there is no such item.
  std::optional<media> update_status(const uuid& id, media_status status);
  std::optional<media> update_metadata(const uuid& id, const nlohmann::json& metadata);

  /// @returns whether it existed.
  bool remove(const uuid& id);

  /// A page of an event's media ordered by captured_at then id.
  [[nodiscard]] page<media> timeline(const uuid& event_id, const timeline_range& range,
                                     const page_request& request,
                                     sort_direction direction = sort_direction::ascending);

  [[nodiscard]] std::int64_t count_by_event(const uuid& event_id);

  /// Moves up to `limit` pending items (oldest captured first) to processing and returns them.
  /// Concurrent claimers never get the same item.
  std::vector<media> claim_pending(std::size_t limit);

 private:
  std::shared_ptr<detail::connection_source> source_;
};

}  // namespace evstore
