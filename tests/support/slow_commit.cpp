#include "slow_commit.hpp"

#include <string>

#include <fmt/format.h>

namespace evstore::test {

void slow_down_commits(connection& conn, double seconds) {
  conn.execute(
      fmt::format("CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "PERFORM pg_sleep({}); RETURN NULL; END $$",
                  seconds));
  conn.execute(
      "CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON events DEFERRABLE INITIALLY "
      "DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit()");
}

}  // namespace evstore::test
