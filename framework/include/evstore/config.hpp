#pragma once

/// @file
/// Configuration: the DATABASE_URL grammar, `.env` files and the layering of settings.
///
/// Precedence, lowest first: built-in defaults, `.env`, `.env.local` (both read from the
/// working directory, both optional), the process environment, command-line flags.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evstore/export.hpp"

namespace evstore {

/// One host of a database URL's host list, after the first (which is database_url::host
/// and database_url::port).
struct database_host {
  /// A name, an IPv4 or IPv6 address (without brackets) or a unix-socket folder; never empty.
  std::string host{};
  /// The port; none for the backend's default (5432 for PostgreSQL).
  std::optional<std::uint16_t> port{};

  friend bool operator==(const database_host&, const database_host&) = default;
};

/// A parsed database URL. Accepted forms:
/// - `postgresql://[user[:password]@][host][:port][,host[:port]...][/database][?key=value&...]`,
///   also with the `postgres://` scheme, an IPv6 host in brackets (`[::1]`), and a unix-socket
///   folder as host, percent-encoded (`%2Fvar%2Frun%2Fpostgresql`) or as `?host=/path`; with
///   several hosts (libpq's multi-host form), none may be empty and each may have its own port;
/// - `sqlite:///absolute/path.db`, `sqlite://relative/path.db`, `sqlite::memory:` (a ',' in
///   the path is part of it);
/// - any other `scheme://...` in the PostgreSQL form, for third-party backends.
/// Every component is percent-decoded. A host may not contain a percent-encoded ',' (`%2C`):
/// libpq decodes a URI's host list before splitting it at commas, so it would be two hosts.
struct EVSTORE_API database_url {
  std::string scheme{};  ///< lower case, as written ("postgresql", "postgres", "sqlite", ...)
  std::string user{};
  std::string password{};
  /// The host, or the first of several: without brackets for IPv6; a folder for a unix
  /// socket; empty for the backend's default (only in a URL with one host).
  std::string host{};
  std::optional<std::uint16_t> port{};  ///< the port of `host`, if written
  /// The database name; for SQLite the file path as written (relative paths are relative
  /// to the working directory) or ":memory:".
  std::string database{};
  /// Query parameters in the order written; a key may not repeat.
  std::vector<std::pair<std::string, std::string>> params{};
  /// The hosts written after the first in a multi-host URL (`h1:5432,h2:5433,[::1]`), in
  /// order. libpq tries `host`:`port` first, then each of these in turn, and keeps the first
  /// connection that succeeds and has the session attributes asked for: with
  /// `?target_session_attrs=read-write` that is the primary, wherever a failover moved it.
  /// Empty for a URL with one host.
  std::vector<database_host> fallback_hosts{};

  /// The value of query parameter `key`, if present.
  [[nodiscard]] std::optional<std::string> param(std::string_view key) const;

  /// The URL with any password replaced by `***`: safe to log and show.
  [[nodiscard]] std::string redacted() const;

  /// The URL with its password, percent-encoded, parsing back to the same fields: for handing
  /// to another program or connection, never for a log, a message or an output.
  [[nodiscard]] std::string text_with_password() const;

  friend bool operator==(const database_url&, const database_url&) = default;
};

/// Parses a database URL.
/// @throws config_error naming the (0-based) position and what is wrong; the message never
///         contains the password or the text of the userinfo part.
[[nodiscard]] EVSTORE_API database_url parse_database_url(std::string_view url);

/// One `KEY=VALUE` assignment of a `.env` file.
struct dotenv_entry {
  std::string key;
  std::string value;
  int line = 0;  ///< 1-based

  friend bool operator==(const dotenv_entry&, const dotenv_entry&) = default;
};

/// Parses the text of a `.env` file: `KEY=VALUE` lines, optional `export ` prefix, blank
/// lines and `#` comments, values bare (trailing ` #comment` dropped), 'single-quoted'
/// (literal) or "double-quoted" (with \n, \t, \", \\ escapes).
/// @param source the file name used in error messages.
/// @throws config_error "<source>:<line>: <what is wrong>"; never echoes a value.
[[nodiscard]] EVSTORE_API std::vector<dotenv_entry> parse_dotenv(std::string_view text,
                                                                 std::string_view source);

/// Layered settings: string values by variable name, each remembering where it came from.
class EVSTORE_API config {
 public:
  /// The value used when no layer gives DATABASE_URL: a SQLite file in the working directory.
  static constexpr std::string_view default_database_url = "sqlite://evstore.db";

  /// Reads `dir/.env`, then `dir/.env.local` (missing files are skipped), then the process
  /// environment for `DATABASE_URL` and every `EVSTORE_*` variable.
  /// @throws config_error for a malformed `.env` file.
  [[nodiscard]] static config load(const std::filesystem::path& dir);

  /// Sets `key` to `text` on the top layer (command-line flags). @param source where it came
  /// from, e.g. "--database-url".
  void set(const std::string& key, std::string text, std::string source);

  /// The effective value of `key`, if any layer sets it.
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const;

  /// Where the effective value of `key` came from (".env.local:3", "environment", a flag), or
  /// "default" when no layer sets it.
  [[nodiscard]] std::string origin(std::string_view key) const;

  /// DATABASE_URL parsed, or the default SQLite file.
  /// @throws config_error naming where the URL came from and the position of the fault.
  [[nodiscard]] database_url database() const;

  /// A duration setting given in seconds (decimals allowed), or `fallback`.
  /// @throws config_error naming the variable and its origin when the value is not a number.
  [[nodiscard]] std::chrono::milliseconds seconds(std::string_view key,
                                                  std::chrono::milliseconds fallback) const;

 private:
  struct value {
    std::string text;
    std::string origin;
  };
  std::map<std::string, value, std::less<>> values_;
};

}  // namespace evstore
