// The quick start of docs/api.md: open a store from DATABASE_URL, create an event with media,
// and read its timeline. Built and run by the test suite, so it stays true.

#include <chrono>
#include <filesystem>
#include <iostream>

#include <evstore/error.hpp>
#include <evstore/store.hpp>

int main() {
  using namespace std::chrono_literals;
  try {
    // DATABASE_URL from the environment, .env or .env.local; else sqlite://evstore.db.
    const auto config = evstore::config::load(std::filesystem::current_path());
    auto store = evstore::store::open(config.database());
    store->migrate();

    const auto now =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    // One transaction: the event and its media are stored together or not at all.
    const auto event = store->transaction([&](evstore::transaction& tx) {
      evstore::new_event concert;
      concert.title = "Harbour concert";
      concert.status = evstore::event_status::live;
      concert.start_time = now;
      concert.coordinates = evstore::geo_point{53.5461, 9.9661};
      concert.metadata = {{"stage", "north"}};
      const auto stored = tx.events().create(concert);
      for (int i = 0; i < 3; ++i) {
        evstore::new_media photo;
        photo.event_id = stored.id;
        photo.kind = evstore::media_kind::image;
        photo.uri = "s3://photos/concert-" + std::to_string(i) + ".jpg";
        photo.captured_at = now + i * 1min;
        (void)tx.media().add(photo);
      }
      return stored;
    });

    auto page = store->media().timeline(event.id, {}, {.limit = 2});
    std::cout << event.title << " (" << event.id.to_string() << ")\n";
    for (;;) {
      for (const auto& item : page.items) {
        std::cout << "  " << item.uri << '\n';
      }
      if (!page.next_cursor) {
        break;
      }
      page = store->media().timeline(event.id, {}, {.limit = 2, .cursor = page.next_cursor});
    }
    return 0;
  } catch (const evstore::error& e) {
    std::cerr << "quickstart: " << e.what() << '\n';
    return 1;
  }
}
