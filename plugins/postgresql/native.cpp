// What the backend does on the native PGconn, around SOCI.

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "backend.hpp"

namespace evstore::postgresql {
namespace {

soci::postgresql_session_backend& native(soci::session& session) {
  return *static_cast<soci::postgresql_session_backend*>(session.get_backend());
}

}  // namespace

void postgresql_backend::close_now(soci::session& session) const noexcept {
  // What SOCI's session clean_up does (not exported): PQfinish, and the session forgets the
  // connection. The DEALLOCATE that each remaining statement sends when destroyed then fails
  // at once, without a round trip (SOCI swallows the failure), instead of waiting on a server
  // that may be hung; the session's own destructor then has nothing left to close.
  if (session.get_backend() == nullptr) {
    return;
  }
  auto& pg = native(session);
  if (pg.conn_ != nullptr) {
    PQfinish(pg.conn_);
    pg.conn_ = nullptr;
  }
}

}  // namespace evstore::postgresql
