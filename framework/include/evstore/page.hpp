#pragma once

/// @file
/// Keyset pagination: every list is paged by its sort key, never with OFFSET. A page ends
/// with an opaque cursor: the sort key and id of its last item, from which the next page
/// starts with `WHERE (key, id) > (:key, :id)`, so that rows inserted or deleted meanwhile
/// neither repeat nor hide others, and a deep page costs what the first one does.
///
/// Cursors are integrity-checked, not secret: they carry an HMAC-SHA256 tag, so a client can
/// neither forge one nor move it to another listing, but anyone can decode the position
/// inside. The key is taken from the environment variable `EVSTORE_CURSOR_KEY` when it is set
/// and not empty, else it is a constant built into libevstore; with the built-in key, cursors
/// stay valid across restarts and across processes, and any two deployments accept each
/// other's cursors. Set `EVSTORE_CURSOR_KEY` (the same value on every instance serving one
/// API) to keep cursors from one deployment out of another.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "evstore/export.hpp"
#include "evstore/model.hpp"

namespace evstore {

/// The smallest and largest number of items a page may ask for.
inline constexpr std::size_t min_page_limit = 1;
inline constexpr std::size_t max_page_limit = 1000;

/// Which page of a listing to read.
struct page_request {
  /// How many items at most, 1..1000.
  std::size_t limit = 50;
  /// The `next_cursor` of the previous page; absent for the first page.
  std::optional<std::string> cursor{};
};

/// One page of a listing.
template <typename T>
struct page {
  /// The items, in the listing's order.
  std::vector<T> items{};
  /// Where the next page starts; absent on the last page.
  std::optional<std::string> next_cursor{};
};

/// The position after the last item of a page: a timestamp key and the id that breaks ties.
struct cursor_position {
  timestamp key{};
  uuid id{};
  friend bool operator==(const cursor_position&, const cursor_position&) = default;
};

/// Makes the opaque cursor for `position` in the listing named `kind`.
/// @param kind which listing and order the cursor belongs to, such as "events.start_time.asc"
///   or "media.timeline.asc": 1 to 64 printable ASCII characters.
/// @returns URL-safe base64 text without padding (RFC 4648 section 5), under 150 characters.
/// @throws validation_error (field "kind") for a kind outside those rules; a programming error.
[[nodiscard]] EVSTORE_API std::string encode_cursor(std::string_view kind,
                                                    const cursor_position& position);

/// Reads a cursor made by encode_cursor for the same `kind`.
/// @throws validation_error (field "cursor") when the cursor is malformed, was altered, was
///   signed with another key, or was made for another listing. The message never quotes the
///   cursor.
[[nodiscard]] EVSTORE_API cursor_position decode_cursor(std::string_view kind,
                                                        std::string_view cursor);

/// Checks a page request's limit.
/// @throws validation_error (field "limit") when the limit is outside 1..1000.
EVSTORE_API void validate(const page_request& request);

}  // namespace evstore
