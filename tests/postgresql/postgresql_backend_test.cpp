// The PostgreSQL plugin against the throw-away server that scripts/test.sh starts. These
// tests never skip: without the server's URL they fail.

#include <string>
#include <typeinfo>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/native_statements.hpp>
#include <evstore/redact.hpp>

#include "process.hpp"
#include "refusing_port.hpp"

namespace {

using evstore::test::default_plugins;
using evstore::test::refusing_port;
using evstore::test::required_env;

evstore::database_url server_url() {
  return evstore::parse_database_url(evstore::test::required_env("EVSTORE_TEST_POSTGRESQL_URL"));
}

evstore::connection open(const evstore::database_url& url) {
  return evstore::connection::open(default_plugins(), url, {});
}

std::string query_text(evstore::connection& connection, const std::string& sql) {
  std::string value;
  connection.session() << sql, soci::into(value);
  return value;
}

// Opens `url`, expecting a connection_error; returns its message.
std::string expect_connection_error(const evstore::database_url& url) {
  try {
    (void)open(url);
  } catch (const evstore::connection_error& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::connection_error));
    EXPECT_EQ(e.backend(), "postgresql");
    return e.what();
  }
  ADD_FAILURE() << "connecting to " << url.redacted() << " must fail";
  return {};
}

// The test server as the second host of a multi-host URL whose first host refuses every
// connection: only libpq's failover reaches the server. Written out and parsed back, as a
// user would give it.
evstore::database_url behind_a_refusing_host(const refusing_port& refusing) {
  auto url = server_url();
  url.fallback_hosts = {{url.host, url.port}};
  url.host = "127.0.0.1";
  url.port = refusing.port();
  return evstore::parse_database_url(url.text_with_password());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(postgresql_backend, connects_and_pings_the_test_server) {
  auto connection = open(server_url());
  EXPECT_EQ(connection.backend_name(), "postgresql");
  EXPECT_GT(connection.ping().count(), 0);
  EXPECT_EQ(connection.server_version().substr(0, 3), "15.");
}

TEST(postgresql_backend, serves_the_postgres_scheme_alias) {
  auto url = server_url();
  url.scheme = "postgres";
  EXPECT_GT(open(url).ping().count(), 0);
}

TEST(postgresql_backend, sets_the_default_application_name) {
  auto connection = open(server_url());
  EXPECT_EQ(query_text(connection, "SHOW application_name"), "evstore");
}

TEST(postgresql_backend, passes_url_parameters_to_libpq) {
  auto url = server_url();
  url.params.emplace_back("application_name", "evstore test");
  url.params.emplace_back("options", "-c statement_timeout=1234");
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SHOW application_name"), "evstore test");
  EXPECT_EQ(query_text(connection, "SHOW statement_timeout"), "1234ms");
}

// SOCI 4.0.3 re-splits a connection string on white space, even inside quotes:
// values with runs of spaces, several words, quotes or backslashes must reach libpq unchanged.
TEST(postgresql_backend, passes_values_with_spaces_quotes_and_backslashes_to_libpq_unchanged) {
  auto url = server_url();
  const std::string name = "evstore  three words, 'single' \"double\" back\\slash";
  url.params.emplace_back("application_name", name);
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SHOW application_name"), name);
}

TEST(postgresql_backend, logs_in_with_a_password_of_spaces_quotes_and_backslashes) {
  const std::string user = "evstore spaced user";
  const std::string password = "pa  ss \"wo\" 'rd' \\ @:/% end";
  {
    auto admin = open(server_url());
    admin.execute("DROP ROLE IF EXISTS \"" + user + "\"");
    std::string literal;
    for (const char c : password) {
      literal += c == '\'' ? std::string("''") : std::string(1, c);
    }
    admin.execute("CREATE ROLE \"" + user + "\" LOGIN PASSWORD '" + literal + "'");
  }
  auto url = server_url();
  url.user = user;
  url.password = password;
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SELECT current_user"), user);
  open(server_url()).execute("DROP ROLE \"" + user + "\"");
}

TEST(postgresql_backend, connects_through_the_unix_socket_folder_given_as_host) {
  auto url = server_url();
  url.host = evstore::test::required_env("EVSTORE_TEST_POSTGRESQL_SOCKET_DIR");
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SELECT COALESCE(inet_client_addr()::text, 'socket')"),
            "socket");
}

TEST(postgresql_backend, maps_a_unique_violation_to_constraint_violation_with_its_sqlstate) {
  auto connection = open(server_url());
  connection.execute("CREATE TEMPORARY TABLE t (id integer PRIMARY KEY)");
  connection.execute("INSERT INTO t VALUES (1)");
  try {
    connection.execute("INSERT INTO t VALUES (1)");
    FAIL() << "a duplicate key must be refused";
  } catch (const evstore::constraint_violation& e) {
    EXPECT_EQ(typeid(e), typeid(evstore::constraint_violation));
    EXPECT_EQ(e.native_code(), "23505");
  }
}

TEST(postgresql_backend, maps_a_serialization_failure_to_transient_error) {
  auto connection = open(server_url());
  try {
    connection.execute(
        "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = 'serialization_failure'; "
        "END $$");
    FAIL() << "the block raises";
  } catch (const evstore::transient_error& e) {
    EXPECT_EQ(e.native_code(), "40001");
  }
}

TEST(postgresql_backend, maps_a_syntax_error_to_a_database_error_with_its_sqlstate) {
  auto connection = open(server_url());
  try {
    connection.execute("SELEC 1");
    FAIL() << "a syntax error must fail";
  } catch (const evstore::error& e) {
    EXPECT_EQ(e.category(), evstore::error_category::database);
    EXPECT_EQ(e.native_code(), "42601");
  }
}

TEST(postgresql_backend, a_wrong_password_is_a_connection_error_that_never_shows_it) {
  auto url = server_url();
  url.password = "wrong-Pa55:@/%word";
  const auto message = expect_connection_error(url);
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_EQ(evstore::redact(message, url.password), message) << "password leaked: " << message;
}

TEST(postgresql_backend, an_unknown_database_is_a_connection_error) {
  auto url = server_url();
  url.database = "no_such_database";
  const auto message = expect_connection_error(url);
  EXPECT_NE(message.find("no_such_database"), std::string::npos) << message;
  EXPECT_EQ(evstore::redact(message, url.password), message) << "password leaked: " << message;
}

TEST(postgresql_backend, fails_over_to_the_second_host_when_the_first_refuses) {
  const refusing_port refusing;
  const auto url = behind_a_refusing_host(refusing);
  ASSERT_EQ(url.fallback_hosts.size(), 1U);
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SELECT inet_server_port()::text"),
            required_env("EVSTORE_TEST_POSTGRESQL_PORT"));
}

TEST(postgresql_backend, target_session_attrs_read_write_fails_over_to_the_writable_server) {
  const refusing_port refusing;
  auto url = behind_a_refusing_host(refusing);
  url.params.emplace_back("target_session_attrs", "read-write");
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SHOW transaction_read_only"), "off");
  EXPECT_EQ(query_text(connection, "SELECT inet_server_port()::text"),
            required_env("EVSTORE_TEST_POSTGRESQL_PORT"));
}

// libpq checks each host it reaches against target_session_attrs: with every session
// read-only, as on standbys, read-write finds no host and reports each one it tried.
TEST(postgresql_backend, target_session_attrs_read_write_passes_over_read_only_servers) {
  const std::string port = required_env("EVSTORE_TEST_POSTGRESQL_PORT");
  const std::string socket_dir = required_env("EVSTORE_TEST_POSTGRESQL_SOCKET_DIR");
  auto url = server_url();
  // The one test server twice: over TCP, then through its socket folder.
  url.fallback_hosts = {{socket_dir, url.port}};
  url.params.emplace_back("options", "-c default_transaction_read_only=on");
  url.params.emplace_back("target_session_attrs", "read-write");
  const auto message = expect_connection_error(url);
  EXPECT_TRUE(contains(message, "connection to server at \"127.0.0.1\", port " + port +
                                    " failed: session is read-only"))
      << message;
  EXPECT_TRUE(contains(message, "connection to server on socket \"" + socket_dir + "/.s.PGSQL." +
                                    port + "\" failed: session is read-only"))
      << message;
  EXPECT_EQ(evstore::redact(message, url.password), message) << "password leaked: " << message;

  url.params.back().second = "read-only";
  auto connection = open(url);
  EXPECT_EQ(query_text(connection, "SHOW transaction_read_only"), "on");
}

TEST(postgresql_backend, connects_through_a_socket_folder_listed_after_a_refusing_host) {
  const refusing_port refusing;
  auto url = server_url();
  url.fallback_hosts = {{required_env("EVSTORE_TEST_POSTGRESQL_SOCKET_DIR"), url.port}};
  url.host = "127.0.0.1";
  url.port = refusing.port();
  auto connection = open(evstore::parse_database_url(url.text_with_password()));
  EXPECT_EQ(query_text(connection, "SELECT COALESCE(inet_client_addr()::text, 'socket')"),
            "socket");
}

// What libpq says when no host answers shows what it was given: every host in order, an IPv6
// address without brackets, each host's own port, and 5432 for a host written without one.
TEST(postgresql_backend, hands_libpq_every_host_with_its_own_port_in_order) {
  const refusing_port ipv6("::1");
  const refusing_port ipv4;
  const std::string missing_dir = "/nonexistent/evstore-sockets";
  auto url = server_url();
  url.host = "::1";
  url.port = ipv6.port();
  url.fallback_hosts = {{"127.0.0.1", ipv4.port()}, {missing_dir, std::nullopt}};
  const auto message = expect_connection_error(url);
  const std::string tried[] = {
      "connection to server at \"::1\", port " + std::to_string(ipv6.port()) + " failed",
      "connection to server at \"127.0.0.1\", port " + std::to_string(ipv4.port()) + " failed",
      "connection to server on socket \"" + missing_dir + "/.s.PGSQL.5432\" failed"};
  std::size_t from = 0;
  for (const auto& attempt : tried) {
    const auto found = message.find(attempt, from);
    EXPECT_NE(found, std::string::npos)
        << attempt << " after position " << from << " in " << message;
    from = found == std::string::npos ? from : found;
  }
  EXPECT_EQ(evstore::redact(message, url.password), message) << "password leaked: " << message;
}

// The plugin reads results in binary (statements.cpp): values it cannot give as asked are
// typed errors that name the column, never a wrong number.
TEST(postgresql_backend, reads_an_infinite_timestamp_or_an_unknown_type_as_a_typed_error) {
  auto connection = open(server_url());
  const auto& native = dynamic_cast<const evstore::native_statements&>(connection.backend());
  auto statement = native.prepare(
      connection.session(),
      "SELECT CAST('infinity' AS timestamptz), CAST('-infinity' AS timestamptz), 1.5::numeric", 0,
      true);
  int rows = 0;
  statement->execute({}, [&](const evstore::native_row& row) {
    ++rows;
    for (const int column : {0, 1}) {
      try {
        (void)row.integer(column);
        ADD_FAILURE() << "column " << column << " read as a number";
      } catch (const evstore::error& e) {
        EXPECT_EQ(e.category(), evstore::error_category::database);
        EXPECT_NE(std::string(e.what()).find("column " + std::to_string(column + 1)),
                  std::string::npos)
            << e.what();
      }
    }
    EXPECT_THROW((void)row.text(2), evstore::error);
    EXPECT_THROW((void)row.integer(2), evstore::error);
  });
  EXPECT_EQ(rows, 1);
}

TEST(postgresql_backend, statement_timeout_goes_where_each_pooler_mode_keeps_it) {
  // No pooler: in the startup packet (source "client"). A session pooler refuses startup
  // options: a SET after connecting (source "session"). A transaction pooler: nothing on the
  // session at all, only inside each transaction (pgbouncer_test checks that part).
  const auto source_and_value = [](evstore::pooler_mode mode) {
    evstore::connect_options options;
    options.statement_timeout = std::chrono::milliseconds(1500);
    options.pooler = mode;
    auto conn = evstore::connection::open(default_plugins(), server_url(), options);
    return query_text(conn,
                      "SELECT source || ' ' || setting FROM pg_settings "
                      "WHERE name = 'statement_timeout'");
  };
  EXPECT_EQ(source_and_value(evstore::pooler_mode::none), "client 1500");
  EXPECT_EQ(source_and_value(evstore::pooler_mode::session), "session 1500");
  EXPECT_EQ(source_and_value(evstore::pooler_mode::transaction), "default 0");
}

TEST(postgresql_backend, behind_a_pooler_the_urls_own_options_are_refused_before_connecting) {
  auto url = server_url();
  url.params.emplace_back("options", "-c work_mem=64MB");
  evstore::connect_options options;
  options.pooler = evstore::pooler_mode::transaction;
  try {
    (void)evstore::connection::open(default_plugins(), url, options);
    FAIL() << "a pooler refuses the startup parameter options";
  } catch (const evstore::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("options parameter cannot pass a pooler"),
              std::string::npos)
        << e.what();
  }
}
