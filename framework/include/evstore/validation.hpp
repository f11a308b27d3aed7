#pragma once

/// @file
/// The rules of the data model (docs/schema.md), checked in the core before any SQL
/// runs, so that every backend accepts and refuses the same values. SQLite would store
/// much that PostgreSQL refuses (invalid UTF-8, NUL characters): these checks make both
/// behave like the stricter one.
///
/// Every check throws evstore::validation_error whose field() names the field at fault
/// ("title", "coordinates.latitude", "metadata", ...) and whose message reads
/// "<field>: <what is wrong>". Lengths are counted in Unicode code points, not bytes.
///
/// The rules, field by field:
/// - text (`title`, `description`, `location_name`, `uri`, `mime_type`, `checksum`): valid
///   UTF-8 (see is_valid_utf8) and no NUL character, which PostgreSQL's text type refuses;
/// - `title` 1..500 characters, `location_name` at most 500, `description` at most 100,000,
///   `uri` 1..2048, `checksum` at most 255;
/// - `mime_type` `type/subtype` (RFC 6838 restricted names, no parameters), at most 255;
/// - `start_time`, `end_time`, `captured_at` within 0001-01-01 .. 9999-12-31 (UTC), and
///   `end_time` not before `start_time`;
/// - `coordinates.latitude` -90..90, `coordinates.longitude` -180..180, both finite;
/// - `size_bytes` at least 0; `event_id`, and `id` when given, not the nil UUID;
/// - `status` and `kind` one of their named values (not an integer cast into the enum);
/// - `metadata` a JSON object, at most validation_limits::max_metadata_bytes serialised and
///   validation_limits::max_metadata_depth deep, every key and string valid UTF-8 without
///   `\u0000` (PostgreSQL's jsonb refuses it), every number finite, no binary values.

#include <cstddef>
#include <string_view>

#include "evstore/export.hpp"
#include "evstore/model.hpp"

namespace evstore {

/// Limits that an application may tune.
struct validation_limits {
  /// The largest `metadata` accepted, in bytes of its compact JSON serialisation.
  std::size_t max_metadata_bytes = 64 * 1024;
  /// The deepest nesting of objects and arrays accepted in `metadata` (the object itself is
  /// level 1). Bounds the stack that serialising and the databases' JSON parsers need.
  std::size_t max_metadata_depth = 64;
};

/// Checks an event before it is created.
/// @throws validation_error naming the first field that breaks a rule.
EVSTORE_API void validate(const new_event& value, const validation_limits& limits = {});

/// Checks a whole event row, as it will be after an update (see apply_patch).
/// @throws validation_error naming the first field that breaks a rule.
EVSTORE_API void validate(const event& value, const validation_limits& limits = {});

/// Checks a media item before it is added.
/// @throws validation_error naming the first field that breaks a rule.
EVSTORE_API void validate(const new_media& value, const validation_limits& limits = {});

/// Returns `current` with every engaged field of `patch` applied; an engaged empty optional
/// clears a nullable field. Pure: validates nothing and touches no database-maintained field
/// (id, created_at, updated_at, version).
/// Checks a metadata object alone (as every validate() does for its `metadata` field).
/// @throws validation_error, field "metadata" or a path inside it.
EVSTORE_API void validate_metadata(const nlohmann::json& metadata,
                                   const validation_limits& limits = {});

[[nodiscard]] EVSTORE_API event apply_patch(event current, const event_patch& patch);

/// True when `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
/// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
[[nodiscard]] EVSTORE_API bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace evstore
