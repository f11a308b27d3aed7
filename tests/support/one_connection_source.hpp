#pragma once

// Repositories on one connection that a test opened itself, so that it can watch that
// connection (its statement cache, its server session).

#include <functional>

#include <evstore/connection.hpp>
#include <evstore/detail/connection_source.hpp>
#include <evstore/repositories.hpp>
#include <evstore/validation.hpp>

namespace evstore::test {

class one_connection_source final : public detail::connection_source {
 public:
  explicit one_connection_source(connection& conn)
      : connection_source(*conn.backend().sql_dialect(), limits_, statistics_, texts_),
        conn_(conn) {}

 protected:
  void run_on_connection(const std::function<void(connection&)>& work) override {
    detail::translating(conn_, [&] { work(conn_); });
  }

  // A write transaction of its own, not retried.
  void run_on_connection_atomically(const std::function<void(connection&)>& work) override {
    run_on_connection([&](connection& conn) {
      conn.execute(sql().begin_write());
      try {
        work(conn);
      } catch (...) {
        conn.execute("ROLLBACK");
        throw;
      }
      conn.execute("COMMIT");
    });
  }

 private:
  static inline const validation_limits limits_{};
  detail::statistics_recorder statistics_;
  detail::statement_texts texts_;
  connection& conn_;
};

/// The event repository on `conn`.
inline event_repository events_on(connection& conn) {
  return event_repository(std::make_shared<one_connection_source>(conn));
}

/// The media repository on `conn`.
inline media_repository media_on(connection& conn) {
  return media_repository(std::make_shared<one_connection_source>(conn));
}

}  // namespace evstore::test
