#include "evstore/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "evstore/error.hpp"
#include "evstore/redact.hpp"

namespace evstore {

// Readable failure output for the types under test.
void PrintTo(const database_url& url, std::ostream* out) {
  *out << "{scheme=" << url.scheme << " user=" << url.user << " password=" << url.password
       << " host=" << url.host << " port=" << (url.port ? std::to_string(*url.port) : "none")
       << " database=" << url.database << " params=";
  for (const auto& [key, value] : url.params) {
    *out << key << '=' << value << ';';
  }
  *out << " fallback_hosts=";
  for (const auto& [host, port] : url.fallback_hosts) {
    *out << host << ':' << (port ? std::to_string(*port) : "none") << ';';
  }
  *out << '}';
}

void PrintTo(const dotenv_entry& entry, std::ostream* out) {
  *out << '{' << entry.key << '=' << entry.value << " line " << entry.line << '}';
}

}  // namespace evstore

namespace {

using evstore::config;
using evstore::config_error;
using evstore::database_url;
using evstore::dotenv_entry;
using evstore::parse_database_url;
using evstore::parse_dotenv;
using namespace std::chrono_literals;

constexpr std::string_view password = "s3cr3t";
constexpr std::string_view user = "alice";

// The message of the config_error that `action` throws; a failure when it throws nothing.
template <typename Action>
std::string config_error_of(Action action) {
  try {
    action();
  } catch (const config_error& error) {
    EXPECT_EQ(error.category(), evstore::error_category::config);
    return error.what();
  }
  ADD_FAILURE() << "expected a config_error";
  return {};
}

std::string url_error_of(std::string_view url) {
  return config_error_of([url] { (void)parse_database_url(url); });
}

std::string dotenv_error_of(std::string_view text, std::string_view source) {
  return config_error_of([=] { (void)parse_dotenv(text, source); });
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

struct good_url {
  std::string_view text;
  database_url expected;
};

const good_url good_urls[] = {
    {"postgresql://localhost/app",
     {.scheme = "postgresql", .host = "localhost", .database = "app"}},
    {"postgres://localhost/app", {.scheme = "postgres", .host = "localhost", .database = "app"}},
    {"PostgreSQL://Localhost/App",
     {.scheme = "postgresql", .host = "Localhost", .database = "App"}},
    {"postgresql://app@db.example.com/inventory",
     {.scheme = "postgresql", .user = "app", .host = "db.example.com", .database = "inventory"}},
    {"postgresql://alice:s3cr3t@db.example.com:5432/inventory",
     {.scheme = "postgresql",
      .user = "alice",
      .password = "s3cr3t",
      .host = "db.example.com",
      .port = 5432,
      .database = "inventory"}},
    {"postgresql://app:p%40ss%3Aw%2Frd%25@host/db",
     {.scheme = "postgresql",
      .user = "app",
      .password = "p@ss:w/rd%",
      .host = "host",
      .database = "db"}},
    {"postgresql://app:p@ss@host/db",
     {.scheme = "postgresql", .user = "app", .password = "p@ss", .host = "host", .database = "db"}},
    {"postgresql://:s3cr3t@host/db",
     {.scheme = "postgresql", .password = "s3cr3t", .host = "host", .database = "db"}},
    {"postgresql://app:@host/db",
     {.scheme = "postgresql", .user = "app", .host = "host", .database = "db"}},
    {"postgresql://10.0.0.7:6432/db",
     {.scheme = "postgresql", .host = "10.0.0.7", .port = 6432, .database = "db"}},
    {"postgresql://[::1]/db", {.scheme = "postgresql", .host = "::1", .database = "db"}},
    {"postgresql://[::1]:5433/db",
     {.scheme = "postgresql", .host = "::1", .port = 5433, .database = "db"}},
    {"postgresql://[fe80::1%25eth0]:1/db",
     {.scheme = "postgresql", .host = "fe80::1%eth0", .port = 1, .database = "db"}},
    {"postgresql://h:65535/db",
     {.scheme = "postgresql", .host = "h", .port = 65535, .database = "db"}},
    {"postgresql:///db", {.scheme = "postgresql", .database = "db"}},
    {"postgresql://app@:5433/db",
     {.scheme = "postgresql", .user = "app", .port = 5433, .database = "db"}},
    {"postgresql://%2Fvar%2Frun%2Fpostgresql/db",
     {.scheme = "postgresql", .host = "/var/run/postgresql", .database = "db"}},
    {"postgresql:///db?host=/tmp",
     {.scheme = "postgresql", .database = "db", .params = {{"host", "/tmp"}}}},
    {"postgresql://u@h/db?sslmode=require&connect_timeout=10&application_name=evstore%20worker",
     {.scheme = "postgresql",
      .user = "u",
      .host = "h",
      .database = "db",
      .params = {{"sslmode", "require"},
                 {"connect_timeout", "10"},
                 {"application_name", "evstore worker"}}}},
    {"postgresql://h/db?options=-c%20search_path%3Dapp&tag=a+b&eq=x=y",
     {.scheme = "postgresql",
      .host = "h",
      .database = "db",
      .params = {{"options", "-c search_path=app"}, {"tag", "a+b"}, {"eq", "x=y"}}}},
    {"postgresql://h/db?", {.scheme = "postgresql", .host = "h", .database = "db"}},
    {"postgresql://h:5432", {.scheme = "postgresql", .host = "h", .port = 5432}},
    {"postgresql://h?sslmode=disable",
     {.scheme = "postgresql", .host = "h", .params = {{"sslmode", "disable"}}}},
    {"postgresql://", {.scheme = "postgresql"}},
    {"postgresql://h/my%2fdb", {.scheme = "postgresql", .host = "h", .database = "my/db"}},
    {"sqlite:///var/lib/evstore/events.db",
     {.scheme = "sqlite", .database = "/var/lib/evstore/events.db"}},
    {"sqlite://data/events.db", {.scheme = "sqlite", .database = "data/events.db"}},
    {"sqlite::memory:", {.scheme = "sqlite", .database = ":memory:"}},
    {"SQLite::memory:?cache=shared",
     {.scheme = "sqlite", .database = ":memory:", .params = {{"cache", "shared"}}}},
    {"sqlite:///home/me/My%20Documents/ev%20store.db",
     {.scheme = "sqlite", .database = "/home/me/My Documents/ev store.db"}},
    {"sqlite://events.db?mode=ro",
     {.scheme = "sqlite", .database = "events.db", .params = {{"mode", "ro"}}}},
    {"cockroachdb://root@crdb:26257/defaultdb?sslmode=disable",
     {.scheme = "cockroachdb",
      .user = "root",
      .host = "crdb",
      .port = 26257,
      .database = "defaultdb",
      .params = {{"sslmode", "disable"}}}},
    {"my-backend+v2.x://h/d", {.scheme = "my-backend+v2.x", .host = "h", .database = "d"}},
    // libpq's multi-host form: the first host in host and port, the others in fallback_hosts.
    {"postgresql://u:s3cr3t@h1:5432,h2:5433/db?target_session_attrs=read-write",
     {.scheme = "postgresql",
      .user = "u",
      .password = "s3cr3t",
      .host = "h1",
      .port = 5432,
      .database = "db",
      .params = {{"target_session_attrs", "read-write"}},
      .fallback_hosts = {{"h2", 5433}}}},
    {"postgresql://h1,h2/db",
     {.scheme = "postgresql", .host = "h1", .database = "db", .fallback_hosts = {{"h2", {}}}}},
    {"postgresql://alice:s3cr3t@h1:5432,h2,h3:5434/db",
     {.scheme = "postgresql",
      .user = "alice",
      .password = "s3cr3t",
      .host = "h1",
      .port = 5432,
      .database = "db",
      .fallback_hosts = {{"h2", {}}, {"h3", 5434}}}},
    {"postgresql://h1,h2:5433,h3/db",
     {.scheme = "postgresql",
      .host = "h1",
      .database = "db",
      .fallback_hosts = {{"h2", 5433}, {"h3", {}}}}},
    {"postgresql://db1.example.com,db2.example.com,db3.example.com",
     {.scheme = "postgresql",
      .host = "db1.example.com",
      .fallback_hosts = {{"db2.example.com", {}}, {"db3.example.com", {}}}}},
    {"postgresql://[::1]:5432,[2001:db8::7],10.0.0.7:6432/db",
     {.scheme = "postgresql",
      .host = "::1",
      .port = 5432,
      .database = "db",
      .fallback_hosts = {{"2001:db8::7", {}}, {"10.0.0.7", 6432}}}},
    {"postgresql://h1,[fe80::1%25eth0]:1,[::2]/db",
     {.scheme = "postgresql",
      .host = "h1",
      .database = "db",
      .fallback_hosts = {{"fe80::1%eth0", 1}, {"::2", {}}}}},
    {"postgresql://app@%2Fvar%2Frun%2Fpostgresql,db2.example.com:5433/app",
     {.scheme = "postgresql",
      .user = "app",
      .host = "/var/run/postgresql",
      .database = "app",
      .fallback_hosts = {{"db2.example.com", 5433}}}},
    {"postgresql://db1:5432,%2Ftmp%2Fpg%20sockets:5433,[::1]/app",
     {.scheme = "postgresql",
      .host = "db1",
      .port = 5432,
      .database = "app",
      .fallback_hosts = {{"/tmp/pg sockets", 5433}, {"::1", {}}}}},
    {"postgresql://app:s3cr@t@h1,h2:6432",
     {.scheme = "postgresql",
      .user = "app",
      .password = "s3cr@t",
      .host = "h1",
      .fallback_hosts = {{"h2", 6432}}}},
    {"postgresql://h1,h2?sslmode=disable",
     {.scheme = "postgresql",
      .host = "h1",
      .params = {{"sslmode", "disable"}},
      .fallback_hosts = {{"h2", {}}}}},
    {"cockroachdb://root@n1:26257,n2:26257,n3:26257/defaultdb",
     {.scheme = "cockroachdb",
      .user = "root",
      .host = "n1",
      .port = 26257,
      .database = "defaultdb",
      .fallback_hosts = {{"n2", 26257}, {"n3", 26257}}}},
    // The parameter form of libpq's host list stays parameters, passed to libpq as they are.
    {"postgresql:///db?host=h1,h2&port=5432,5433",
     {.scheme = "postgresql",
      .database = "db",
      .params = {{"host", "h1,h2"}, {"port", "5432,5433"}}}},
    // In a SQLite path a comma is a comma.
    {"sqlite:///tmp/a,b.db", {.scheme = "sqlite", .database = "/tmp/a,b.db"}},
    {"sqlite://x,y.db?mode=ro",
     {.scheme = "sqlite", .database = "x,y.db", .params = {{"mode", "ro"}}}},
};

TEST(database_url, parses_every_accepted_form_into_its_parts) {
  for (const auto& [text, expected] : good_urls) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_database_url(text), expected);
  }
}

struct bad_url {
  std::string_view text;
  std::string_view position;
  std::string_view what;
};

const bad_url bad_urls[] = {
    {"", "position 0:", "scheme"},
    {"://alice:s3cr3t@h/db", "position 0:", "scheme"},
    {"post gres://alice:s3cr3t@h/db", "position 0:", "scheme"},
    {"alice:s3cr3t@localhost/db", "position 6:", "\"//\" after the scheme"},
    {"postgresql:alice:s3cr3t@h/db", "position 11:", "\"//\" after the scheme"},
    {"postgresql://alice:s3cr3t@h:0/db", "position 28:", "port"},
    {"postgresql://alice:s3cr3t@h:70000/db", "position 28:", "port"},
    {"postgresql://alice:s3cr3t@h:abc/db", "position 28:", "port"},
    {"postgresql://alice:s3cr3t@h:/db", "position 28:", "port"},
    {"postgresql://alice:s3cr3t@h:-1/db", "position 28:", "port"},
    {"postgresql://alice:s3cr3t@h:+1/db", "position 28:", "port"},
    {"postgresql://alice:s3cr3t/x@h/db", "position 19:", "port"},
    {"postgresql://alice:s3cr3t%zz@h/db",
     "position 25:", "malformed percent-encoding in the user or password"},
    {"postgresql://alice:s3cr3t%4@h/db", "position 25:", "the user or password"},
    {"postgresql://alice:s3cr3t%@h/db", "position 25:", "the user or password"},
    {"postgresql://ali%G0ce:s3cr3t@h/db", "position 16:", "the user or password"},
    {"postgresql://alice:s3cr3t%00@h/db", "position 25:", "NUL"},
    {"postgresql://alice:s3cr3t@h/d%zzb", "position 29:", "in the database name"},
    {"postgresql://alice:s3cr3t@h/db%00", "position 30:", "NUL"},
    {"postgresql://alice:s3cr3t@h/a/b", "position 29:", "%2F"},
    {"postgresql://alice:s3cr3t@h%zz/db", "position 27:", "in the host"},
    {"postgresql://alice:s3cr3t@h1,,h2/db", "position 29:", "host 2 of the list is empty"},
    {"postgresql://alice:s3cr3t@,h2/db", "position 26:", "host 1 of the list is empty"},
    {"postgresql://alice:s3cr3t@h1,/db", "position 29:", "host 2 of the list is empty"},
    {"postgresql://alice:s3cr3t@h1,h2,h3,/db", "position 35:", "host 4 of the list is empty"},
    {"postgresql://alice:s3cr3t@h1,:5433/db", "position 29:", "host 2 of the list is empty"},
    {"postgresql://alice:s3cr3t@h1:5432,h2:0/db", "position 37:", "port"},
    {"postgresql://alice:s3cr3t@h1,h2:70000,h3/db", "position 32:", "port"},
    {"postgresql://alice:s3cr3t@h1,h2,h3:x/db", "position 35:", "port"},
    {"postgresql://alice:s3cr3t@h1,h2:/db", "position 32:", "port"},
    {"postgresql://alice:s3cr3t@[::1]:5432,[::2]:99999/db", "position 43:", "port"},
    {"postgresql://alice:s3cr3t@h1,[::1/db", "position 29:", "']'"},
    {"postgresql://alice:s3cr3t@[::1,h2]:5432/db", "position 26:", "']'"},
    {"postgresql://alice:s3cr3t@h1,[::1]x/db", "position 34:", "after ']'"},
    {"postgresql://alice:s3cr3t@h1,[]:5432/db", "position 29:", "empty IPv6 address"},
    {"postgresql://alice:s3cr3t@h1,h%zz/db", "position 30:", "in the host"},
    {"postgresql://alice:s3cr3t@h1,h2%00/db", "position 31:", "NUL"},
    {"postgresql://alice:s3cr3t@h1%2Ch2/db", "position 28:", "encoded ','"},
    {"postgresql://alice:s3cr3t@h1,[::1%2c]/db", "position 33:", "encoded ','"},
    {"postgresql://alice:s3cr3t@[::1/db", "position 26:", "']'"},
    {"postgresql://alice:s3cr3t@[::1]x/db", "position 31:", "after ']'"},
    {"postgresql://alice:s3cr3t@[]:5432/db", "position 26:", "empty IPv6 address"},
    {"postgresql://alice:s3cr3t@h/db?sslmode", "position 31:", "without '='"},
    {"postgresql://alice:s3cr3t@h/db?=x", "position 31:", "empty key"},
    {"postgresql://alice:s3cr3t@h/db?a=1&a=2", "position 35:", "given twice"},
    {"postgresql://alice?s3cr3t=1&s3cr3t=2@h/db", "position 28:", "given twice"},
    {"postgresql://alice:s3cr3t@h/db?a=1&&b=2", "position 35:", "without '='"},
    {"postgresql://alice:s3cr3t@h/db?a=%zz", "position 33:", "in a query parameter"},
    {"sqlite://", "position 9:", "empty SQLite path"},
    {"sqlite:events.db", "position 7:", "sqlite:///absolute/path.db"},
    {"sqlite:/tmp/events.db", "position 7:", "sqlite::memory:"},
    {"sqlite:///tmp/x%zz.db", "position 15:", "in the SQLite path"},
};

TEST(database_url, rejects_malformed_urls_naming_position_and_fault) {
  for (const auto& [text, position, what] : bad_urls) {
    SCOPED_TRACE(text);
    const std::string message = url_error_of(text);
    EXPECT_TRUE(message.starts_with("invalid database URL at position ")) << message;
    EXPECT_TRUE(contains(message, position)) << message;
    EXPECT_TRUE(contains(message, what)) << message;
  }
}

TEST(database_url, error_messages_never_contain_the_userinfo_or_the_url) {
  for (const auto& [text, position, what] : bad_urls) {
    SCOPED_TRACE(text);
    const std::string message = url_error_of(text);
    EXPECT_FALSE(contains(message, password)) << message;
    EXPECT_FALSE(contains(message, user)) << message;
    if (!text.empty()) {
      EXPECT_FALSE(contains(message, text)) << message;
    }
  }
}

TEST(database_url, parses_ipv6_host_in_brackets) {
  const auto url = parse_database_url("postgresql://[2001:db8::7]:5433/db");
  EXPECT_EQ(url.host, "2001:db8::7");
  EXPECT_EQ(url.port, 5433);
}

TEST(database_url, a_single_host_url_has_no_fallback_hosts) {
  EXPECT_TRUE(parse_database_url("postgresql://u:p@h:5432/db").fallback_hosts.empty());
  EXPECT_TRUE(parse_database_url("postgresql:///db?host=h1,h2").fallback_hosts.empty());
}

TEST(database_url, parses_three_hosts_keeping_their_order_and_ports) {
  const auto url = parse_database_url(
      "postgresql://alice:s3cr3t@primary.example.com:5432,[2001:db8::7]:5433,"
      "%2Fvar%2Frun%2Fpostgresql/app?target_session_attrs=read-write");
  EXPECT_EQ(url.host, "primary.example.com");
  EXPECT_EQ(url.port, 5432);
  const std::vector<evstore::database_host> expected = {{"2001:db8::7", 5433},
                                                        {"/var/run/postgresql", std::nullopt}};
  EXPECT_EQ(url.fallback_hosts, expected);
  EXPECT_EQ(url.database, "app");
  EXPECT_EQ(url.param("target_session_attrs"), "read-write");
}

TEST(database_url, redacted_of_a_multi_host_url_lists_every_host_and_hides_the_password) {
  const auto url = parse_database_url(
      "postgresql://alice:s3cr3t@h1:5432,[::1],%2fvar%2frun%2fpostgresql:5433,10.0.0.7/db"
      "?target_session_attrs=read-write");
  EXPECT_EQ(url.redacted(),
            "postgresql://alice:***@h1:5432,[::1],%2Fvar%2Frun%2Fpostgresql:5433,10.0.0.7/db"
            "?target_session_attrs=read-write");
  EXPECT_EQ(url.text_with_password(),
            "postgresql://alice:s3cr3t@h1:5432,[::1],%2Fvar%2Frun%2Fpostgresql:5433,10.0.0.7/db"
            "?target_session_attrs=read-write");
}

TEST(database_url, a_fallback_socket_folder_with_a_colon_and_an_ipv6_zone_parse_back) {
  // A socket folder with a ':' is encoded whole; any other host with a ':' is an IPv6 address.
  database_url url{.scheme = "postgresql",
                   .host = "h1",
                   .fallback_hosts = {{"/run/pg:x", 1}, {"fe80::1%eth0", {}}}};
  EXPECT_EQ(url.redacted(), "postgresql://h1,%2Frun%2Fpg%3Ax:1,[fe80::1%25eth0]");
  EXPECT_EQ(parse_database_url(url.redacted()), url);
}

TEST(database_url, param_returns_the_value_of_a_present_key_only) {
  const auto url = parse_database_url("postgresql://h/db?sslmode=require&empty=");
  EXPECT_EQ(url.param("sslmode"), "require");
  EXPECT_EQ(url.param("empty"), "");
  EXPECT_EQ(url.param("missing"), std::nullopt);
}

TEST(database_url, redacted_replaces_the_password_by_stars) {
  const auto url =
      parse_database_url("postgresql://alice:s3cr3t@db.example.com:5432/inventory?sslmode=require");
  EXPECT_EQ(url.redacted(), "postgresql://alice:***@db.example.com:5432/inventory?sslmode=require");
}

TEST(database_url, redacted_hides_a_password_given_as_query_parameter) {
  const auto url = parse_database_url("postgresql://h/db?password=s3cr3t&sslpassword=s3cr3t");
  EXPECT_EQ(url.redacted(), "postgresql://h/db?password=***&sslpassword=***");
}

TEST(database_url, redacted_of_a_url_without_password_is_canonical) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"POSTGRES://alice@[::1]:5433/my%2fdb?application_name=evstore%20worker&host=/tmp",
       "postgres://alice@[::1]:5433/my%2Fdb?application_name=evstore%20worker&host=/tmp"},
      {"postgresql://%2fvar%2frun%2fpostgresql/db", "postgresql://%2Fvar%2Frun%2Fpostgresql/db"},
      {"postgresql://app:@h/db", "postgresql://app@h/db"},
      {"postgresql://", "postgresql://"},
      {"sqlite::memory:", "sqlite::memory:"},
      {"sqlite:///var/lib/evstore/events.db", "sqlite:///var/lib/evstore/events.db"},
      {"sqlite://data/events.db?mode=ro", "sqlite://data/events.db?mode=ro"},
      {"sqlite:///home/me/My Documents/x.db", "sqlite:///home/me/My%20Documents/x.db"},
  };
  for (const auto& [text, canonical] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_database_url(text).redacted(), canonical);
  }
}

TEST(database_url, parsing_redacted_gives_the_same_parts_with_stars_for_password) {
  for (const auto& [text, expected] : good_urls) {
    SCOPED_TRACE(text);
    const std::string redacted = parse_database_url(text).redacted();
    if (!expected.password.empty()) {
      EXPECT_FALSE(contains(redacted, expected.password)) << redacted;
    }
    database_url masked = expected;
    if (!masked.password.empty()) {
      masked.password = "***";
    }
    EXPECT_EQ(parse_database_url(redacted), masked) << redacted;
  }
}

TEST(database_url, text_with_password_parses_back_to_the_same_parts) {
  for (const auto& [text, expected] : good_urls) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_database_url(expected.text_with_password()), expected);
  }
}

// Random choices from a fixed seed. std::mt19937's output is fixed by the standard (its
// distributions are not), so a failing case is the same on every machine.
class random_source {
 public:
  explicit random_source(std::uint32_t seed) : engine_(seed) {}

  // A number from 0 to `bound` - 1.
  std::size_t below(std::size_t bound) { return engine_() % bound; }
  // True once in `times` on average.
  bool one_in(std::size_t times) { return below(times) == 0; }
  char pick(std::string_view from) { return from[below(from.size())]; }
  std::string text(std::string_view alphabet, std::size_t min_size, std::size_t max_size) {
    std::string result;
    const std::size_t size = min_size + below(max_size - min_size + 1);
    for (std::size_t i = 0; i < size; ++i) {
      result += pick(alphabet);
    }
    return result;
  }

 private:
  std::mt19937 engine_;
};

constexpr std::string_view lower_and_digits = "abcdefghijklmnopqrstuvwxyz0123456789";
// Every printable ASCII character, white space and bytes of UTF-8 and Latin-1: each must
// survive percent-encoding and decoding wherever it appears.
constexpr std::string_view special_characters =
    "abcXYZ019 \t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\xC3\xA9\xE2\x82\xAC\xFF";

std::string random_ipv6(random_source& random) {
  constexpr std::string_view hex = "0123456789abcdefABCDEF";
  std::string address;
  const std::size_t groups = 1 + random.below(8);
  const std::size_t gap = random.below(groups + 1);
  for (std::size_t i = 0; i < groups; ++i) {
    address += i == gap ? "::" : (i == 0 ? "" : ":");
    address += random.text(hex, 1, 4);
  }
  if (gap == groups) {
    address += "::";
  }
  if (random.one_in(4)) {
    address += '%' + random.text(special_characters, 1, 6);  // a zone, e.g. fe80::1%eth0
  }
  return address;
}

// Any host a URL can carry: never empty, never with a ',' (which the parser refuses to take
// from a host, since libpq would split the host there).
std::string random_host(random_source& random) {
  std::string host;
  switch (random.below(5)) {
    case 0:
      host = random.text(lower_and_digits, 1, 12) + "." + random.text("abcdefghij-.", 1, 10);
      break;
    case 1:
      for (int part = 0; part < 4; ++part) {
        host += (part == 0 ? "" : ".") + std::to_string(random.below(256));
      }
      break;
    case 2:
      host = random_ipv6(random);
      break;
    case 3:
      for (std::size_t part = 0, parts = 1 + random.below(3); part < parts; ++part) {
        host += '/' + random.text(special_characters, 1, 8);
      }
      break;
    default:
      for (std::size_t i = 0, size = 1 + random.below(10); i < size; ++i) {
        host += static_cast<char>(1 + random.below(255));
      }
  }
  std::replace(host.begin(), host.end(), ',', '_');
  return host;
}

std::optional<std::uint16_t> random_port(random_source& random) {
  if (random.one_in(2)) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(1 + random.below(65535));
}

// A URL of 1 to 5 hosts, with or without user, password, database and parameters. Passwords
// start with "Pw" and secret parameters with "Qs" and are long enough that finding one in a
// text cannot be a coincidence.
database_url random_server_url(random_source& random) {
  constexpr std::string_view schemes[] = {"postgresql", "postgres", "cockroachdb", "x+y.z-1"};
  constexpr std::string_view keys[] = {
      "target_session_attrs", "sslmode", "application_name", "options", "password", "sslpassword"};
  database_url url;
  url.scheme = schemes[random.below(std::size(schemes))];
  if (!random.one_in(4)) {
    url.user = random.text(special_characters, 1, 12);
  }
  if (!random.one_in(4)) {
    url.password = "Pw" + random.text(special_characters, 6, 16);
  }
  const std::size_t hosts = 1 + random.below(5);
  // Only a lone host may be empty (libpq's default host).
  url.host = hosts == 1 && random.one_in(6) ? std::string() : random_host(random);
  url.port = random_port(random);
  for (std::size_t i = 1; i < hosts; ++i) {
    url.fallback_hosts.push_back({random_host(random), random_port(random)});
  }
  if (!random.one_in(4)) {
    url.database = random.text(special_characters, 1, 16);
  }
  for (std::size_t i = 0, count = random.below(4); i < count; ++i) {
    std::string key = random.one_in(3) ? random.text(special_characters, 1, 8)
                                       : std::string(keys[random.below(std::size(keys))]);
    const bool secret = key == "password" || key == "sslpassword";
    std::string value = secret ? "Qs" + random.text(special_characters, 6, 12)
                               : random.text(special_characters, 0, 16);
    if (!url.param(key)) {
      url.params.emplace_back(std::move(key), std::move(value));
    }
  }
  return url;
}

// The secrets of `url`: its password and its secret parameters.
std::vector<std::string> secrets_of(const database_url& url) {
  std::vector<std::string> secrets;
  if (!url.password.empty()) {
    secrets.push_back(url.password);
  }
  for (const auto& [key, value] : url.params) {
    if (key == "password" || key == "sslpassword") {
      secrets.push_back(value);
    }
  }
  return secrets;
}

// `text` with one random edit near the hosts: the kinds of typo a host list invites.
std::string mutated(std::string text, random_source& random) {
  constexpr std::string_view inserts = ",,:[]@/%?&=0";
  const std::size_t at = random.below(text.size() + 1);
  if (random.one_in(3) && at < text.size()) {
    text.erase(at, 1);
  } else {
    text.insert(at, 1, random.pick(inserts));
  }
  return text;
}

// The "fuzz" coverage of the URL grammar: thousands of random URLs, with every host form in
// lists of one to five, from a fixed seed. The passwords are made up by the generator, so a
// failing case may be printed whole.
TEST(database_url, random_multi_host_urls_round_trip_and_never_show_their_password) {
  constexpr std::uint32_t seed = 20240611;
  constexpr int cases = 5000;
  random_source random(seed);
  for (int number = 0; number < cases; ++number) {
    const database_url url = random_server_url(random);
    const std::string text = url.text_with_password();
    SCOPED_TRACE("seed " + std::to_string(seed) + ", case " + std::to_string(number) + ": " + text);
    database_url parsed;
    ASSERT_NO_THROW(parsed = parse_database_url(text));
    EXPECT_EQ(parsed, url);

    const std::string redacted = url.redacted();
    for (const auto& secret : secrets_of(url)) {
      EXPECT_FALSE(contains(redacted, secret)) << redacted;
      EXPECT_FALSE(contains(redacted, evstore::percent_encode(secret))) << redacted;
    }
    database_url masked = url;
    if (!masked.password.empty()) {
      masked.password = "***";
    }
    for (auto& [key, value] : masked.params) {
      if (key == "password" || key == "sslpassword") {
        value = "***";
      }
    }
    EXPECT_EQ(parse_database_url(redacted), masked) << redacted;

    // A damaged URL parses to something that round-trips, or fails with a config_error that
    // shows none of the secrets.
    const std::string damaged = mutated(text, random);
    try {
      const database_url reparsed = parse_database_url(damaged);
      EXPECT_EQ(parse_database_url(reparsed.text_with_password()), reparsed) << damaged;
    } catch (const config_error& error) {
      const std::string message = error.what();
      for (const auto& secret : secrets_of(url)) {
        EXPECT_FALSE(contains(message, secret)) << message;
        EXPECT_FALSE(contains(message, evstore::percent_encode(secret))) << message;
      }
    } catch (const std::exception& error) {
      ADD_FAILURE() << damaged << ": not a config_error: " << error.what();
    }
  }
}

TEST(dotenv, parses_a_file_with_comments_blank_lines_and_crlf) {
  const std::string_view text =
      "# settings\r\n"
      "\r\n"
      "DATABASE_URL=postgresql://alice:s3cr3t@h/db\r\n"
      "   # indented comment\n"
      "export EVSTORE_LOG_LEVEL = debug  # inline comment\n"
      "\tEVSTORE_EMPTY=\n"
      "EVSTORE_LAST='no newline at the end'";
  const std::vector<dotenv_entry> expected = {
      {"DATABASE_URL", "postgresql://alice:s3cr3t@h/db", 3},
      {"EVSTORE_LOG_LEVEL", "debug", 5},
      {"EVSTORE_EMPTY", "", 6},
      {"EVSTORE_LAST", "no newline at the end", 7},
  };
  EXPECT_EQ(parse_dotenv(text, ".env"), expected);
}

TEST(dotenv, parses_bare_quoted_and_escaped_values) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"A=1", "1"},
      {"  A =  1  ", "1"},
      {"export A=1", "1"},
      {"export\tA=1", "1"},
      {"A=", ""},
      {"A=''", ""},
      {"A=\"\"", ""},
      {"A=1\r", "1"},
      {"A=hello world", "hello world"},
      {"A=hello # comment", "hello"},
      {"A=hello\t# comment", "hello"},
      {"A= # only a comment", ""},
      {"A=hello#not-a-comment", "hello#not-a-comment"},
      {"A=#not-a-comment", "#not-a-comment"},
      {"A=b=c", "b=c"},
      {"A=it's", "it's"},
      {"A='  spaced  '", "  spaced  "},
      {R"(A='literal \n "x" # y')", R"(literal \n "x" # y)"},
      {"A='x' # comment", "x"},
      {R"x(A="line1\nline2\t\"q\" \\ 'y'")x", "line1\nline2\t\"q\" \\ 'y'"},
      {R"(A="# not a comment" # comment)", "# not a comment"},
      {R"(A="x"#comment)", "x"},
  };
  for (const auto& [line, value] : cases) {
    SCOPED_TRACE(line);
    const std::vector<dotenv_entry> expected = {{"A", std::string(value), 1}};
    EXPECT_EQ(parse_dotenv(line, ".env"), expected);
  }
}

TEST(dotenv, accepts_names_of_letters_digits_and_underscores) {
  const std::vector<dotenv_entry> expected = {{"_private9", "x", 1}, {"Mixed_Case_2", "y", 2}};
  EXPECT_EQ(parse_dotenv("_private9=x\nMixed_Case_2=y\n", ".env"), expected);
}

TEST(dotenv, later_assignments_of_a_key_follow_earlier_ones) {
  const std::vector<dotenv_entry> expected = {{"A", "1", 1}, {"A", "2", 2}};
  EXPECT_EQ(parse_dotenv("A=1\nA=2\n", ".env"), expected);
}

TEST(dotenv, empty_text_has_no_entries) {
  EXPECT_TRUE(parse_dotenv("", ".env").empty());
  EXPECT_TRUE(parse_dotenv("\n\r\n# only comments\n", ".env").empty());
}

struct bad_dotenv {
  std::string_view text;
  std::string_view prefix;
  std::string_view what;
};

const bad_dotenv bad_dotenvs[] = {
    {"PASSWORD s3cr3t", "app.env:1: ", "expected KEY=VALUE"},
    {"A=1\n\n# comment\nPASSWORD \"s3cr3t\"\n", "app.env:4: ", "expected KEY=VALUE"},
    {"1PASSWORD=s3cr3t", "app.env:1: ", "invalid variable name"},
    {"=s3cr3t", "app.env:1: ", "invalid variable name"},
    {"export =s3cr3t", "app.env:1: ", "invalid variable name"},
    {"MY-PASSWORD=s3cr3t", "app.env:1: ", "invalid variable name"},
    {"DATABASE_URL postgresql://alice:s3cr3t@h/db?sslmode=require",
     "app.env:1: ", "invalid variable name"},
    {"PASSWORD='s3cr3t", "app.env:1: ", "unterminated single quote"},
    {"A=1\r\nPASSWORD='s3cr3t\r\n", "app.env:2: ", "unterminated single quote"},
    {"PASSWORD=\"s3cr3t", "app.env:1: ", "unterminated double quote"},
    {R"(PASSWORD="s3cr3t\")", "app.env:1: ", "unterminated double quote"},
    {"PASSWORD=\"s3cr3t\\", "app.env:1: ", "unterminated double quote"},
    {R"(PASSWORD="s3cr3t"x)", "app.env:1: ", "unexpected text after the closing quote"},
    {"PASSWORD='s3cr3t' extra", "app.env:1: ", "unexpected text after the closing quote"},
    {R"(PASSWORD="s3\qcr3t")", "app.env:1: ", "unsupported escape sequence"},
};

TEST(dotenv, rejects_malformed_lines_naming_source_and_line_but_no_value) {
  for (const auto& [text, prefix, what] : bad_dotenvs) {
    SCOPED_TRACE(text);
    const std::string message = dotenv_error_of(text, "app.env");
    EXPECT_TRUE(message.starts_with(prefix)) << message;
    EXPECT_TRUE(contains(message, what)) << message;
    EXPECT_FALSE(contains(message, password)) << message;
    EXPECT_FALSE(contains(message, "s3")) << message;
    EXPECT_FALSE(contains(message, user)) << message;
  }
}

// A fresh folder, removed with its contents at the end of the test.
class temp_folder {
 public:
  temp_folder() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "evstore-config-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
  ~temp_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  void write(const std::string& name, std::string_view text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  std::filesystem::path path_;
};

bool is_config_variable(std::string_view name) {
  return name == "DATABASE_URL" || name.starts_with("EVSTORE_");
}

// Runs each test with none of the variables config::load reads, whatever the environment of
// the test run holds, and puts them back afterwards.
class config_test : public testing::Test {
 protected:
  void SetUp() override {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string_view assignment(*entry);
      const auto equals = assignment.find('=');
      if (equals != std::string_view::npos && is_config_variable(assignment.substr(0, equals))) {
        saved_.emplace_back(assignment.substr(0, equals), assignment.substr(equals + 1));
      }
    }
    for (const auto& [name, value] : saved_) {
      unsetenv(name.c_str());
    }
  }

  void TearDown() override {
    for (const auto& name : set_) {
      unsetenv(name.c_str());
    }
    for (const auto& [name, value] : saved_) {
      setenv(name.c_str(), value.c_str(), 1);
    }
  }

  void set_environment(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    set_.push_back(name);
  }

  temp_folder folder_;

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
  std::vector<std::string> set_;
};

TEST_F(config_test, later_layers_win_env_then_env_local_then_environment_then_set) {
  folder_.write(".env",
                "# base\n"
                "EVSTORE_A=env\n"
                "EVSTORE_B=env\n"
                "EVSTORE_C=env\n"
                "EVSTORE_D=env\n"
                "OTHER=from-file\n");
  folder_.write(".env.local",
                "EVSTORE_B=local\r\n"
                "EVSTORE_C=local\r\n"
                "EVSTORE_D=local\r\n");
  set_environment("EVSTORE_C", "environment");
  set_environment("EVSTORE_D", "environment");

  auto settings = config::load(folder_.path());
  settings.set("EVSTORE_D", "flag", "--d");

  EXPECT_EQ(settings.get("EVSTORE_A"), "env");
  EXPECT_EQ(settings.origin("EVSTORE_A"), ".env:2");
  EXPECT_EQ(settings.get("EVSTORE_B"), "local");
  EXPECT_EQ(settings.origin("EVSTORE_B"), ".env.local:1");
  EXPECT_EQ(settings.get("EVSTORE_C"), "environment");
  EXPECT_EQ(settings.origin("EVSTORE_C"), "environment");
  EXPECT_EQ(settings.get("EVSTORE_D"), "flag");
  EXPECT_EQ(settings.origin("EVSTORE_D"), "--d");
  EXPECT_EQ(settings.get("OTHER"), "from-file");
  EXPECT_EQ(settings.origin("OTHER"), ".env:6");
}

TEST_F(config_test, unset_keys_have_no_value_and_default_origin) {
  const auto settings = config::load(folder_.path());
  EXPECT_EQ(settings.get("EVSTORE_MISSING"), std::nullopt);
  EXPECT_EQ(settings.origin("EVSTORE_MISSING"), "default");
}

TEST_F(config_test, environment_gives_only_database_url_and_evstore_variables) {
  set_environment("DATABASE_URL", "sqlite::memory:");
  set_environment("EVSTORE_X", "1");
  set_environment("NOT_EVSTORE_X", "1");
  set_environment("EVSTOREX", "1");
  const auto settings = config::load(folder_.path());
  EXPECT_EQ(settings.get("DATABASE_URL"), "sqlite::memory:");
  EXPECT_EQ(settings.get("EVSTORE_X"), "1");
  EXPECT_EQ(settings.get("NOT_EVSTORE_X"), std::nullopt);
  EXPECT_EQ(settings.get("EVSTOREX"), std::nullopt);
  EXPECT_EQ(settings.get("PATH"), std::nullopt);
}

TEST_F(config_test, default_database_is_a_sqlite_file_in_the_working_directory) {
  const auto settings = config::load(folder_.path());
  const database_url expected{.scheme = "sqlite", .database = "evstore.db"};
  EXPECT_EQ(settings.database(), expected);
  EXPECT_EQ(settings.origin("DATABASE_URL"), "default");
}

TEST_F(config_test, database_url_comes_from_the_highest_layer) {
  folder_.write(".env", "DATABASE_URL=sqlite://from-env.db\n");
  EXPECT_EQ(config::load(folder_.path()).database().database, "from-env.db");

  folder_.write(".env.local", "\nDATABASE_URL=sqlite://from-env-local.db\n");
  EXPECT_EQ(config::load(folder_.path()).database().database, "from-env-local.db");

  set_environment("DATABASE_URL", "postgresql://h/from_environment");
  auto settings = config::load(folder_.path());
  EXPECT_EQ(settings.database().database, "from_environment");

  settings.set("DATABASE_URL", "sqlite::memory:", "--database-url");
  EXPECT_EQ(settings.database().database, ":memory:");
}

TEST_F(config_test, bad_database_url_names_its_origin_and_position_but_not_the_password) {
  folder_.write(".env.local", "# local\nDATABASE_URL=postgresql://alice:s3cr3t@h:99999/db\n");
  const auto settings = config::load(folder_.path());
  const std::string message = config_error_of([&] { (void)settings.database(); });
  EXPECT_TRUE(
      message.starts_with("DATABASE_URL from .env.local:2: invalid database URL at position 28: "))
      << message;
  EXPECT_FALSE(contains(message, password)) << message;
  EXPECT_FALSE(contains(message, user)) << message;
}

TEST_F(config_test, bad_database_url_from_a_flag_names_the_flag) {
  auto settings = config::load(folder_.path());
  settings.set("DATABASE_URL", "sqlite:events.db", "--database-url");
  const std::string message = config_error_of([&] { (void)settings.database(); });
  EXPECT_TRUE(message.starts_with("DATABASE_URL from --database-url: invalid database URL"))
      << message;
}

TEST_F(config_test, malformed_env_file_fails_to_load_naming_file_and_line) {
  folder_.write(".env", "EVSTORE_A=1\nPASSWORD='s3cr3t\n");
  const std::string message = config_error_of([&] { (void)config::load(folder_.path()); });
  EXPECT_TRUE(message.starts_with(".env:2: ")) << message;
  EXPECT_FALSE(contains(message, password)) << message;
}

TEST_F(config_test, env_file_that_is_not_a_regular_file_fails_to_load) {
  std::filesystem::create_directory(folder_.path() / ".env.local");
  const std::string message = config_error_of([&] { (void)config::load(folder_.path()); });
  EXPECT_TRUE(contains(message, ".env.local")) << message;
}

TEST_F(config_test, unreadable_env_file_fails_to_load) {
  // A folder named .env cannot be read as a file, not even by root (CI runs as root).
  std::filesystem::create_directory(folder_.path() / ".env");
  const std::string message = config_error_of([&] { (void)config::load(folder_.path()); });
  EXPECT_TRUE(contains(message, ".env")) << message;
}

TEST_F(config_test, seconds_converts_whole_and_decimal_seconds_to_milliseconds) {
  const std::pair<std::string, std::chrono::milliseconds> cases[] = {
      {"2", 2000ms},   {"0", 0ms},      {"0.5", 500ms},     {"1.25", 1250ms},      {"007", 7000ms},
      {"0.0004", 0ms}, {"0.0005", 1ms}, {"1.9996", 2000ms}, {"86400", 86400000ms},
  };
  config settings;
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    settings.set("EVSTORE_TIMEOUT", text, "--timeout");
    EXPECT_EQ(settings.seconds("EVSTORE_TIMEOUT", 1ms), expected);
  }
}

TEST_F(config_test, seconds_falls_back_when_unset) {
  const config settings;
  EXPECT_EQ(settings.seconds("EVSTORE_TIMEOUT", 1500ms), 1500ms);
}

TEST_F(config_test, seconds_rejects_anything_but_a_non_negative_decimal_number) {
  const std::string_view cases[] = {"",   "s3cr3t", "-1",    "+1",  " 2",
                                    "2 ", "1e3",    "inf",   "nan", "0x10",
                                    "1.", ".5",     "1.2.3", "1,5", "9999999999999"};
  config settings;
  for (const auto text : cases) {
    SCOPED_TRACE(text);
    settings.set("EVSTORE_TIMEOUT", std::string(text), "--timeout");
    const std::string message =
        config_error_of([&] { (void)settings.seconds("EVSTORE_TIMEOUT", 1ms); });
    EXPECT_EQ(message,
              "EVSTORE_TIMEOUT from --timeout: expected a non-negative number of seconds, such as "
              "2 or 0.5");
  }
}

TEST_F(config_test, bad_seconds_from_a_file_name_the_file_and_line) {
  folder_.write(".env", "\n\nEVSTORE_TIMEOUT=s3cr3t\n");
  const auto settings = config::load(folder_.path());
  const std::string message =
      config_error_of([&] { (void)settings.seconds("EVSTORE_TIMEOUT", 1ms); });
  EXPECT_TRUE(message.starts_with("EVSTORE_TIMEOUT from .env:3: ")) << message;
  EXPECT_FALSE(contains(message, password)) << message;
}

}  // namespace
