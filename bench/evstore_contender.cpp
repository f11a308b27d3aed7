// evstore's public API, as an application calls it.

#include <evstore/store.hpp>

#include "contender.hpp"

namespace evstore::bench {
namespace {

class evstore_contender final : public contender {
 public:
  evstore_contender(const target& db, std::size_t connections) {
    store_options options;
    options.pool.max_size = connections;
    options.pool.min_idle = connections;
    store_ = store::open(db.url, options);
  }

  event create_event(const new_event& item) override { return store_->events().create(item); }

  void add_media(const std::vector<new_media>& batch) override {
    static_cast<void>(store_->media().add_many(batch));
  }

  std::vector<media> timeline(const uuid& event_id) override {
    return store_->media().timeline(event_id, {}, {.limit = page_size}).items;
  }

  std::optional<event> get_event(const uuid& id) override { return store_->events().get(id); }

 private:
  std::unique_ptr<store> store_;
};

}  // namespace

std::unique_ptr<contender> open_evstore_contender(const target& db, std::size_t connections) {
  return std::make_unique<evstore_contender>(db, connections);
}

}  // namespace evstore::bench
