// The evstore command against the throw-away PostgreSQL server.

#include <string>

#include <gtest/gtest.h>

#include <evstore/redact.hpp>

#include "process.hpp"

using evstore::test::required_env;
using evstore::test::run_process;

TEST(cli_postgresql, ping_reaches_the_test_server_through_database_url) {
  const evstore::test::temp_dir dir;
  const auto url = required_env("EVSTORE_TEST_POSTGRESQL_URL");
  const auto password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  const auto result = run_process({EVSTORE_CLI, "ping"}, {{"DATABASE_URL", url}}, dir.path());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ok: postgresql 15."), std::string::npos) << result.out;
  EXPECT_NE(result.out.find(":***@"), std::string::npos) << "URL shown redacted: " << result.out;
  const auto output = result.out + result.err;
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
}

TEST(cli_postgresql, ping_with_a_wrong_password_exits_5_without_showing_it) {
  const evstore::test::temp_dir dir;
  auto url = required_env("EVSTORE_TEST_POSTGRESQL_URL");
  const auto password = required_env("EVSTORE_TEST_POSTGRESQL_PASSWORD");
  const auto encoded = evstore::percent_encode(password);
  const auto at = url.find(encoded);
  ASSERT_NE(at, std::string::npos) << "the test URL carries the password percent-encoded";
  const std::string wrong = "Wr0ng%3A%40%2F%25pass";
  url.replace(at, encoded.size(), wrong);
  const auto result = run_process({EVSTORE_CLI, "--database-url", url, "ping"}, {}, dir.path());
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_NE(result.err.find("password authentication failed"), std::string::npos) << result.err;
  const auto output = result.out + result.err;
  EXPECT_EQ(evstore::redact(output, "Wr0ng:@/%pass"), output) << "password leaked: " << output;
  EXPECT_EQ(output.find(wrong), std::string::npos) << "password leaked: " << output;
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
}
