// Opens the store named by DATABASE_URL (or .env, or a SQLite file in this folder), records a
// photo session and prints its timeline.

#include <chrono>
#include <filesystem>
#include <iostream>

#include <evstore/config.hpp>
#include <evstore/error.hpp>

#include "gallery.hpp"

int main() {
  using namespace std::chrono_literals;
  try {
    const auto config = evstore::config::load(std::filesystem::current_path());
    auto store = evstore::store::open(config.database());
    (void)store->migrate();

    const auto start =
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    // Handed over out of order: the timeline sorts by the time each photo was taken.
    const auto session = gallery::record_session(*store, "Harbour walk", start,
                                                 {{"file:///photos/lighthouse.jpg", start + 2min},
                                                  {"file:///photos/pier.jpg", start},
                                                  {"file:///photos/gulls.jpg", start + 1min}});
    const auto uris = gallery::timeline_uris(*store, session.id);
    std::cout << session.title << ": " << uris.size() << " photo(s), oldest first:\n";
    for (const auto& uri : uris) {
      std::cout << "  " << uri << '\n';
    }
    return 0;
  } catch (const evstore::error& e) {
    std::cerr << "gallery_app: " << e.what() << '\n';
    return 1;
  }
}
