// Connecting to a server that is not there fails fast, clearly, and without the password.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include <evstore/connection.hpp>
#include <evstore/error.hpp>
#include <evstore/redact.hpp>
#include <evstore/store.hpp>

#include "log_capture.hpp"

#include "process.hpp"

namespace {

constexpr std::string_view password = "c4n:ary@/%pw";

// A TCP socket bound to a free loopback port, closed with this object.
class loopback_socket {
 public:
  loopback_socket() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    // The sockets API takes sockaddr*; reinterpret_cast is its documented use.
    auto* generic = reinterpret_cast<sockaddr*>(&address);
    EXPECT_EQ(bind(fd_, generic, sizeof(address)), 0);
    EXPECT_EQ(getsockname(fd_, generic, &length), 0);
    port_ = ntohs(address.sin_port);
  }
  loopback_socket(const loopback_socket&) = delete;
  loopback_socket& operator=(const loopback_socket&) = delete;
  ~loopback_socket() { close(fd_); }

  // Accepts connections into the backlog, never reading from them: a server that says nothing.
  void listen_silently() { EXPECT_EQ(listen(fd_, 16), 0); }

  [[nodiscard]] std::string url() const {
    return "postgresql://app:" + evstore::percent_encode(password) +
           "@127.0.0.1:" + std::to_string(port_) + "/evstore";
  }

 private:
  int fd_;
  int port_ = 0;
};

// The URL of a loopback port with nothing listening: bound, then released.
std::string closed_port_url() {
  return loopback_socket().url();
}

}  // namespace

TEST(connect_failure, a_closed_port_is_a_connection_error_without_the_password) {
  const auto& registry = evstore::test::default_plugins();
  evstore::connect_options options;
  options.connect_timeout = std::chrono::seconds(2);
  try {
    (void)evstore::connection::open(registry, evstore::parse_database_url(closed_port_url()),
                                    options);
    FAIL() << "nothing listens there";
  } catch (const evstore::connection_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
    EXPECT_EQ(evstore::redact(message, password), message) << "password leaked: " << message;
  }
}

TEST(connect_failure, cli_ping_to_a_closed_port_exits_5_within_the_connect_timeout) {
  const evstore::test::temp_dir dir;
  const auto result = evstore::test::run_process(
      {EVSTORE_CLI, "--connect-timeout", "2", "ping"},
      {{"DATABASE_URL", closed_port_url()}, {"EVSTORE_LOG_LEVEL", "debug"}}, dir.path());
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_LT(result.elapsed, std::chrono::seconds(4));
  EXPECT_NE(result.err.find("connection error: postgresql: cannot connect to"), std::string::npos)
      << result.err;
  // Debug logging is on, to search its lines for the password too; the error is one line.
  std::istringstream lines(result.err);
  int error_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    error_lines += line.starts_with("evstore: ") ? 1 : 0;
  }
  EXPECT_EQ(error_lines, 1) << result.err;
  const auto output = result.out + result.err;
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
}

TEST(connect_failure, cli_ping_to_an_unanswering_address_gives_up_at_the_connect_timeout) {
  const evstore::test::temp_dir dir;
  // A listening socket that never accepts: the TCP handshake completes (backlog) but the
  // server never speaks, so only the connect timeout ends the wait, as with a hung server.
  loopback_socket silent;
  silent.listen_silently();
  const auto result = evstore::test::run_process({EVSTORE_CLI, "--connect-timeout", "2", "ping"},
                                                 {{"DATABASE_URL", silent.url()}}, dir.path());
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_GE(result.elapsed, std::chrono::milliseconds(1500));
  EXPECT_LT(result.elapsed, std::chrono::seconds(5));
  EXPECT_NE(result.err.find("timeout"), std::string::npos) << result.err;
  const auto output = result.out + result.err;
  EXPECT_EQ(evstore::redact(output, password), output) << "password leaked: " << output;
}

TEST(connect_failure, a_store_retries_connecting_within_its_budget_then_reports_it) {
  evstore::store_options options;
  options.connect_retry_budget = std::chrono::milliseconds(800);
  options.connect.connect_timeout = std::chrono::seconds(2);
  auto store = evstore::store::open(evstore::parse_database_url(closed_port_url()), options);
  const evstore::test::captured_log log;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)store->events().count({}), evstore::connection_error);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(100)) << "it retried";
  EXPECT_LT(took, std::chrono::seconds(3)) << "within the budget";
  const auto text = log.text();
  EXPECT_NE(text.find("connecting failed (attempt 1), retrying in"), std::string::npos) << text;
  EXPECT_EQ(evstore::redact(text, password), text) << "password leaked: " << text;
}

TEST(connect_failure, a_store_without_a_retry_budget_fails_at_once) {
  evstore::store_options options;
  options.connect_retry_budget = std::chrono::milliseconds(0);
  auto store = evstore::store::open(evstore::parse_database_url(closed_port_url()), options);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)store->events().count({}), evstore::connection_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
}
