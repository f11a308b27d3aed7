// evstore's public API, as an application calls it: on the database server directly, or
// through a transaction-mode pooler as an application behind PgBouncer does.

#include <evstore/store.hpp>

#include "contender.hpp"

namespace evstore::bench {
namespace {

class evstore_contender final : public contender {
 public:
  evstore_contender(const target& db, std::size_t connections, bool through_pooler) {
    store_options options;
    options.pool.max_size = connections;
    options.pool.min_idle = connections;
    if (through_pooler) {
      // As deployed behind PgBouncer (docs/deployment.md); the benchmark's migrations ran on
      // the direct URL already, so nothing goes there during the run.
      options.direct_url = db.url;
    }
    store_ = store::open(through_pooler ? db.pooled_url.value() : db.url, options);
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

std::unique_ptr<contender> open_evstore_contender(const target& db, std::size_t connections,
                                                  bool through_pooler) {
  return std::make_unique<evstore_contender>(db, connections, through_pooler);
}

}  // namespace evstore::bench
