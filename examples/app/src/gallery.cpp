#include "gallery.hpp"

namespace gallery {

evstore::event record_session(evstore::store& store, const std::string& title,
                              evstore::timestamp start, const std::vector<photo>& photos) {
  return store.transaction([&](evstore::transaction& tx) {
    evstore::new_event session;
    session.title = title;
    session.status = evstore::event_status::live;
    session.start_time = start;
    const auto stored = tx.events().create(session);
    std::vector<evstore::new_media> media;
    for (const auto& p : photos) {
      evstore::new_media item;
      item.event_id = stored.id;
      item.kind = evstore::media_kind::image;
      item.mime_type = "image/jpeg";
      item.uri = p.uri;
      item.captured_at = p.taken_at;
      media.push_back(std::move(item));
    }
    (void)tx.media().add_many(media);
    return stored;
  });
}

std::vector<std::string> timeline_uris(evstore::store& store, const evstore::uuid& event_id) {
  std::vector<std::string> uris;
  evstore::page_request request{.limit = 100};
  for (;;) {
    const auto page = store.media().timeline(event_id, {}, request);
    for (const auto& item : page.items) {
      uris.push_back(item.uri);
    }
    if (!page.next_cursor) {
      return uris;
    }
    request.cursor = page.next_cursor;
  }
}

}  // namespace gallery
