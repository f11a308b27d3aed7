// evstore's public API, as an application calls it: on the database server directly, through
// a transaction-mode pooler as an application behind PgBouncer does, or with a streaming
// standby as its read replica.

#include <stdexcept>
#include <thread>

#include <evstore/store.hpp>

#include "contender.hpp"

namespace evstore::bench {
namespace {

using namespace std::chrono_literals;

class evstore_contender final : public contender {
 public:
  evstore_contender(const target& db, std::size_t connections, evstore_route route)
      : route_(route) {
    store_options options;
    options.pool.max_size = connections;
    options.pool.min_idle = connections;
    auto url = db.url;
    if (route == evstore_route::pooler) {
      // As deployed behind PgBouncer (docs/deployment.md); the benchmark's migrations ran on
      // the direct URL already, so nothing goes there during the run.
      options.direct_url = db.url;
      url = db.pooled_url.value();
    } else if (route == evstore_route::replica) {
      auto standby = db.standby_url.value();
      standby.params.emplace_back("pool_max", std::to_string(connections));
      standby.params.emplace_back("pool_min_idle", std::to_string(connections));
      options.read_urls = {standby};
      options.replicas.check_interval = 20ms;
    }
    store_ = store::open(url, options);
    if (route == evstore_route::replica) {
      wait_for_standby();
    }
  }

  event create_event(const new_event& item) override { return events().create(item); }

  void add_media(const std::vector<new_media>& batch) override {
    static_cast<void>(media_items().add_many(batch));
  }

  std::vector<media> timeline(const uuid& event_id) override {
    return media_items().timeline(event_id, {}, {.limit = page_size}).items;
  }

  std::optional<event> get_event(const uuid& id) override { return events().get(id); }

  [[nodiscard]] std::optional<double> standby_share() const override {
    if (route_ != evstore_route::replica) {
      return std::nullopt;
    }
    const auto stats = store_->statistics();
    const auto standby = static_cast<double>(stats.replicas.at(0).reads);
    const auto all = standby + static_cast<double>(stats.primary_reads);
    return all > 0 ? standby / all : 0.0;
  }

 private:
  // With a replica, each call is a request of its own that wrote nothing before it (a scope):
  // its reads may go to the standby. Otherwise the store's own repositories.
  event_repository events() {
    return route_ == evstore_route::replica ? store_->scope().events() : store_->events();
  }
  media_repository media_items() {
    return route_ == evstore_route::replica ? store_->scope().media() : store_->media();
  }

  // The dataset was loaded just before: the standby must have replayed it, or the benchmark
  // would read an older state (which a caller without a token may, but the checks would not
  // accept).
  void wait_for_standby() {
    const auto until = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      const auto standby = store_->replicas(5s).at(0);
      if (standby.state == replica_state::up && standby.lag_bytes == 0) {
        return;
      }
      if (std::chrono::steady_clock::now() > until) {
        throw std::runtime_error("the standby did not catch up with the primary within 60 s: " +
                                 standby.reason);
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  evstore_route route_;
  std::unique_ptr<store> store_;
};

}  // namespace

std::unique_ptr<contender> open_evstore_contender(const target& db, std::size_t connections,
                                                  evstore_route route) {
  return std::make_unique<evstore_contender>(db, connections, route);
}

}  // namespace evstore::bench
