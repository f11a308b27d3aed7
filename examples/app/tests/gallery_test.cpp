// The application's logic on an in-memory SQLite store (evstore::testing): the same
// repository code that runs in production on PostgreSQL.

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/error.hpp>
#include <evstore/testing.hpp>

#include "gallery.hpp"

namespace {

using namespace std::chrono_literals;

const evstore::timestamp noon{std::chrono::sys_days{std::chrono::year{2026} / 6 / 1} + 12h};

TEST(gallery, the_timeline_lists_photos_in_the_order_they_were_taken) {
  auto store = evstore::testing::memory_store();
  const auto session = gallery::record_session(
      *store, "Market", noon, {{"file:///b.jpg", noon + 1s}, {"file:///a.jpg", noon}});
  EXPECT_EQ(gallery::timeline_uris(*store, session.id),
            (std::vector<std::string>{"file:///a.jpg", "file:///b.jpg"}));
}

TEST(gallery, a_timeline_longer_than_a_page_is_read_whole) {
  auto store = evstore::testing::memory_store();
  std::vector<gallery::photo> photos;
  for (int i = 0; i < 250; ++i) {
    photos.push_back({"file:///" + std::to_string(i) + ".jpg", noon + i * 1s});
  }
  const auto session = gallery::record_session(*store, "Parade", noon, photos);
  const auto uris = gallery::timeline_uris(*store, session.id);
  ASSERT_EQ(uris.size(), 250U);
  EXPECT_EQ(uris.front(), "file:///0.jpg");
  EXPECT_EQ(uris.back(), "file:///249.jpg");
}

TEST(gallery, a_refused_photo_leaves_no_session_behind) {
  auto store = evstore::testing::memory_store();
  try {
    (void)gallery::record_session(*store, "Half", noon, {{"file:///ok.jpg", noon}, {"", noon}});
    FAIL() << "a photo without a URI is refused";
  } catch (const evstore::validation_error& e) {
    EXPECT_EQ(e.field(), "uri");
  }
  EXPECT_EQ(store->events().count({}), 0) << "the event was rolled back with its photos";
}

}  // namespace
