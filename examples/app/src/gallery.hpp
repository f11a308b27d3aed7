#pragma once

/// @file
/// The example application's logic: a photo session is an event with its photos, stored
/// together, and read back as a timeline.

#include <string>
#include <vector>

#include <evstore/store.hpp>

namespace gallery {

/// A photo taken during a session.
struct photo {
  std::string uri;
  evstore::timestamp taken_at;
};

/// Stores a live event titled `title` starting at `start`, with `photos` as its media, in one
/// transaction: all of it or, when any part is refused, none.
/// @throws evstore::validation_error naming the refused field; other evstore::error types.
evstore::event record_session(evstore::store& store, const std::string& title,
                              evstore::timestamp start, const std::vector<photo>& photos);

/// The URIs of an event's photos in the order they were taken, read page by page.
std::vector<std::string> timeline_uris(evstore::store& store, const evstore::uuid& event_id);

}  // namespace gallery
