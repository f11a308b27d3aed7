#include "evstore/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <system_error>

#include "evstore/error.hpp"
#include "evstore/redact.hpp"

#include "ascii.hpp"

namespace evstore {

namespace {

constexpr auto npos = std::string_view::npos;

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_ascii_alnum(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_all_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), is_ascii_digit);
}

[[noreturn]] void fail_at(std::size_t position, std::string_view what) {
  throw config_error("invalid database URL at position " + std::to_string(position) + ": " +
                     std::string(what));
}

// A part of the URL and where it starts, so that errors can name a position without
// echoing any text (a part may hold the password).
struct piece {
  std::string_view text;
  std::size_t position = 0;

  [[nodiscard]] piece sub(std::size_t from, std::size_t count = npos) const {
    return {text.substr(from, count), position + from};
  }
};

// @param where names the part for the error message, never its text.
std::string percent_decode(piece part, std::string_view where) {
  std::string decoded;
  decoded.reserve(part.text.size());
  for (std::size_t i = 0; i < part.text.size(); ++i) {
    if (part.text[i] != '%') {
      decoded += part.text[i];
      continue;
    }
    const int high = i + 1 < part.text.size() ? detail::hex_value(part.text[i + 1]) : -1;
    const int low = i + 2 < part.text.size() ? detail::hex_value(part.text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      fail_at(part.position + i, "malformed percent-encoding in " + std::string(where));
    }
    // A NUL would silently cut the value short in every C API it is handed to.
    if (high == 0 && low == 0) {
      fail_at(part.position + i, "percent-encoded NUL byte in " + std::string(where));
    }
    decoded += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return decoded;
}

bool is_scheme_char(char c) {
  return is_ascii_alnum(c) || c == '+' || c == '-' || c == '.';
}

std::size_t scheme_end(std::string_view url) {
  const auto colon = std::min(url.find(':'), url.size());
  const std::string_view scheme = url.substr(0, colon);
  if (colon == url.size() || scheme.empty() ||
      !std::all_of(scheme.begin(), scheme.end(), is_scheme_char)) {
    fail_at(0, "expected a scheme such as postgresql:// or sqlite://");
  }
  return colon;
}

std::string to_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return lower;
}

std::pair<piece, piece> split_query(piece part) {
  const auto question = part.text.find('?');
  if (question == npos) {
    return {part, part.sub(part.text.size())};
  }
  return {part.sub(0, question), part.sub(question + 1)};
}

using parameters = std::vector<std::pair<std::string, std::string>>;

void add_parameter(piece pair, parameters& params) {
  const auto equals = pair.text.find('=');
  if (equals == npos) {
    fail_at(pair.position, "query parameter without '=' (expected key=value)");
  }
  if (equals == 0) {
    fail_at(pair.position, "query parameter with an empty key");
  }
  std::string key = percent_decode(pair.sub(0, equals), "a query parameter");
  std::string value = percent_decode(pair.sub(equals + 1), "a query parameter");
  const auto same_key = [&key](const auto& param) { return param.first == key; };
  if (std::any_of(params.begin(), params.end(), same_key)) {
    // Not named: an unencoded '?' in a password would put part of it in a key.
    fail_at(pair.position, "a query parameter is given twice");
  }
  params.emplace_back(std::move(key), std::move(value));
}

parameters parse_query(piece query) {
  parameters params;
  if (query.text.empty()) {
    return params;
  }
  for (std::size_t start = 0;;) {
    const auto end = std::min(query.text.find('&', start), query.text.size());
    add_parameter(query.sub(start, end - start), params);
    if (end == query.text.size()) {
      return params;
    }
    start = end + 1;
  }
}

void parse_userinfo(piece userinfo, database_url& url) {
  constexpr std::string_view where = "the user or password";
  const auto colon = userinfo.text.find(':');
  url.user = percent_decode(userinfo.sub(0, colon), where);
  if (colon != npos) {
    url.password = percent_decode(userinfo.sub(colon + 1), where);
  }
}

std::uint16_t parse_port(piece port) {
  constexpr unsigned max_port = 65535;
  unsigned value = 0;
  const char* const end = port.text.data() + port.text.size();
  const auto [stop, status] = std::from_chars(port.text.data(), end, value);
  if (status != std::errc{} || stop != end || value == 0 || value > max_port) {
    fail_at(port.position, "the port must be a decimal number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

// libpq decodes a URI's host list before it splits it at commas, so an encoded comma would
// make two hosts of one there, where this parser keeps one: refused, so both agree.
void reject_encoded_comma(piece host) {
  for (auto percent = host.text.find('%'); percent != npos;
       percent = host.text.find('%', percent + 1)) {
    const std::string_view code = host.text.substr(percent + 1, 2);
    if (code == "2C" || code == "2c") {
      fail_at(host.position + percent,
              "a host may not contain an encoded ',' (%2C): the comma separates hosts");
    }
  }
}

std::string decode_host(piece host) {
  reject_encoded_comma(host);
  return percent_decode(host, "the host");
}

// One `host[:port]` of the host list: a name, an IPv4 address, an IPv6 address in brackets
// or a percent-encoded unix-socket folder, with an optional port.
database_host parse_host(piece host_port) {
  database_host parsed;
  piece rest;
  if (!host_port.text.starts_with('[')) {
    const auto colon = std::min(host_port.text.find(':'), host_port.text.size());
    parsed.host = decode_host(host_port.sub(0, colon));
    rest = host_port.sub(colon);
  } else {
    const auto close = host_port.text.find(']');
    if (close == npos) {
      fail_at(host_port.position, "'[' without a closing ']' in the host");
    }
    if (close == 1) {
      fail_at(host_port.position, "empty IPv6 address in the host");
    }
    parsed.host = decode_host(host_port.sub(1, close - 1));
    rest = host_port.sub(close + 1);
    if (!rest.text.empty() && rest.text[0] != ':') {
      fail_at(rest.position, "expected ':' and a port, ',' or the end of the host after ']'");
    }
  }
  if (!rest.text.empty()) {
    parsed.port = parse_port(rest.sub(1));
  }
  return parsed;
}

// `host[:port][,host[:port]...]`, libpq's multi-host form: the first host goes to url.host
// and url.port, the others to url.fallback_hosts. Only a URL with one host may leave it empty
// (libpq's default host); in a list an empty one is more likely a typo than a wish for the
// default socket folder.
void parse_hosts(piece hosts, database_url& url) {
  const bool several = hosts.text.find(',') != npos;
  std::size_t number = 1;
  for (std::size_t start = 0;; ++number) {
    const auto end = std::min(hosts.text.find(',', start), hosts.text.size());
    const piece entry = hosts.sub(start, end - start);
    database_host parsed = parse_host(entry);
    if (several && parsed.host.empty()) {
      fail_at(entry.position, "host " + std::to_string(number) +
                                  " of the list is empty (write a name, an address or a "
                                  "socket folder between the commas)");
    }
    if (number == 1) {
      url.host = std::move(parsed.host);
      url.port = parsed.port;
    } else {
      url.fallback_hosts.push_back(std::move(parsed));
    }
    if (end == hosts.text.size()) {
      return;
    }
    start = end + 1;
  }
}

// @param path the path without its leading '/'.
void parse_database_name(piece path, database_url& url) {
  if (const auto slash = path.text.find('/'); slash != npos) {
    fail_at(path.position + slash, "a '/' in the database name must be percent-encoded as %2F");
  }
  url.database = percent_decode(path, "the database name");
}

// `//[user[:password]@][host][:port][,host[:port]...][/database][?query]`, after the scheme's
// ':'.
database_url parse_server_url(piece rest, std::string scheme) {
  if (!rest.text.starts_with("//")) {
    fail_at(rest.position, "expected \"//\" after the scheme");
  }
  database_url url;
  url.scheme = std::move(scheme);
  const auto [body, query] = split_query(rest.sub(2));
  const auto slash = body.text.find('/');
  const piece authority = body.sub(0, slash);
  // The last '@' ends the userinfo, so an unencoded '@' in a password still parses.
  const auto at = authority.text.rfind('@');
  if (at != npos) {
    parse_userinfo(authority.sub(0, at), url);
  }
  parse_hosts(authority.sub(at == npos ? 0 : at + 1), url);
  if (slash != npos) {
    parse_database_name(body.sub(slash + 1), url);
  }
  url.params = parse_query(query);
  return url;
}

// `:memory:`, `///absolute/path` or `//relative/path`, after the scheme's ':'.
database_url parse_sqlite_url(piece rest) {
  database_url url;
  url.scheme = "sqlite";
  const auto [body, query] = split_query(rest);
  if (body.text == ":memory:") {
    url.database = ":memory:";
  } else if (body.text.starts_with("//")) {
    if (body.text.size() == 2) {
      fail_at(body.position + 2, "empty SQLite path");
    }
    url.database = percent_decode(body.sub(2), "the SQLite path");
  } else {
    fail_at(body.position,
            "a SQLite URL must be sqlite:///absolute/path.db, sqlite://relative/path.db or "
            "sqlite::memory:");
  }
  url.params = parse_query(query);
  return url;
}

// libpq also takes passwords as query parameters.
bool is_secret_parameter(std::string_view key) {
  return key == "password" || key == "sslpassword";
}

std::string query_text(const parameters& params, bool reveal) {
  constexpr std::string_view query_safe = "/:@";
  std::string text;
  for (const auto& [key, value] : params) {
    text += text.empty() ? '?' : '&';
    text += percent_encode(key, query_safe);
    text += '=';
    text += is_secret_parameter(key) && !reveal ? "***" : percent_encode(value, query_safe);
  }
  return text;
}

std::string host_text(const std::string& host) {
  // A unix-socket folder is encoded whole; anything else with a ':' is an IPv6 address.
  if (!host.starts_with('/') && host.find(':') != npos) {
    return '[' + percent_encode(host, ":") + ']';
  }
  return percent_encode(host, "");
}

std::string host_port_text(const std::string& host, std::optional<std::uint16_t> port) {
  return port ? host_text(host) + ':' + std::to_string(*port) : host_text(host);
}

std::string server_location(const database_url& url, bool reveal) {
  std::string text = "//";
  if (!url.user.empty() || !url.password.empty()) {
    text += percent_encode(url.user, "");
    if (!url.password.empty()) {
      text += ':' + (reveal ? percent_encode(url.password, "") : std::string("***"));
    }
    text += '@';
  }
  text += host_port_text(url.host, url.port);
  for (const auto& [host, port] : url.fallback_hosts) {
    text += ',' + host_port_text(host, port);
  }
  if (!url.database.empty()) {
    text += '/' + percent_encode(url.database, "");
  }
  return text;
}

std::string sqlite_location(const database_url& url) {
  if (url.database == ":memory:") {
    return ":memory:";
  }
  return "//" + percent_encode(url.database, "/");
}

std::string serialise(const database_url& url, bool reveal) {
  const std::string location =
      url.scheme == "sqlite" ? sqlite_location(url) : server_location(url, reveal);
  return url.scheme + ':' + location + query_text(url.params, reveal);
}

constexpr std::string_view blanks = " \t";

bool is_blank(char c) {
  return blanks.find(c) != npos;
}

std::string_view trim_left(std::string_view text) {
  text.remove_prefix(std::min(text.find_first_not_of(blanks), text.size()));
  return text;
}

std::string_view trim(std::string_view text) {
  text = trim_left(text);
  text.remove_suffix(text.size() - (text.find_last_not_of(blanks) + 1));
  return text;
}

// Where a .env line is, for error messages; they never quote the line, which may hold a secret.
struct line_context {
  std::string_view source;
  int number = 0;

  [[noreturn]] void fail(std::string_view what) const {
    throw config_error(std::string(source) + ":" + std::to_string(number) + ": " +
                       std::string(what));
  }
};

bool is_valid_key(std::string_view key) {
  const auto is_key_char = [](char c) { return is_ascii_alnum(c) || c == '_'; };
  return !key.empty() && !is_ascii_digit(key[0]) &&
         std::all_of(key.begin(), key.end(), is_key_char);
}

void expect_only_comment(std::string_view rest, const line_context& at) {
  rest = trim_left(rest);
  if (!rest.empty() && rest[0] != '#') {
    at.fail("unexpected text after the closing quote");
  }
}

std::string single_quoted(std::string_view text, const line_context& at) {
  const auto close = text.find('\'', 1);
  if (close == npos) {
    at.fail("unterminated single quote");
  }
  expect_only_comment(text.substr(close + 1), at);
  return std::string(text.substr(1, close - 1));
}

char unescape(char c, const line_context& at) {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case '"':
    case '\\':
      return c;
    default:
      at.fail(R"(unsupported escape sequence in a double-quoted value (use \n, \t, \" or \\))");
  }
}

std::string double_quoted(std::string_view text, const line_context& at) {
  std::string value;
  for (std::size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '"') {
      expect_only_comment(text.substr(i + 1), at);
      return value;
    }
    if (text[i] != '\\') {
      value += text[i];
    } else if (++i < text.size()) {
      value += unescape(text[i], at);
    }
  }
  at.fail("unterminated double quote");
}

// A bare value ends where a '#' preceded by a blank starts a comment.
std::string_view strip_comment(std::string_view raw) {
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (raw[i] == '#' && is_blank(raw[i - 1])) {
      return raw.substr(0, i);
    }
  }
  return raw;
}

// @param raw everything after the '='.
std::string parse_value(std::string_view raw, const line_context& at) {
  const std::string_view text = trim_left(raw);
  if (text.starts_with('\'')) {
    return single_quoted(text, at);
  }
  if (text.starts_with('"')) {
    return double_quoted(text, at);
  }
  return std::string(trim(strip_comment(raw)));
}

std::string_view strip_export(std::string_view line) {
  constexpr std::string_view keyword = "export";
  if (line.size() > keyword.size() && line.starts_with(keyword) && is_blank(line[keyword.size()])) {
    return trim_left(line.substr(keyword.size()));
  }
  return line;
}

std::optional<dotenv_entry> parse_dotenv_line(std::string_view line, const line_context& at) {
  line = trim_left(line);
  if (line.empty() || line.starts_with('#')) {
    return std::nullopt;
  }
  line = strip_export(line);
  const auto equals = line.find('=');
  if (equals == npos) {
    at.fail("expected KEY=VALUE");
  }
  // The name is not echoed either: without its '=', a value can end up on the left.
  const std::string_view key = trim(line.substr(0, equals));
  if (!is_valid_key(key)) {
    at.fail("invalid variable name (letters, digits and '_', not starting with a digit)");
  }
  return dotenv_entry{std::string(key), parse_value(line.substr(equals + 1), at), at.number};
}

std::optional<std::string> read_optional_file(const std::filesystem::path& path) {
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  if (status.type() == std::filesystem::file_type::not_found) {
    return std::nullopt;
  }
  if (status_error) {
    throw config_error(path.string() + ": cannot be read: " + status_error.message());
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw config_error(path.string() + ": cannot be read: not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    throw config_error(path.string() + ": cannot be read");
  }
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    throw config_error(path.string() + ": cannot be read");
  }
  return text;
}

void load_dotenv_file(const std::filesystem::path& dir, const std::string& name, config& into) {
  const auto text = read_optional_file(dir / name);
  if (!text) {
    return;
  }
  for (auto& entry : parse_dotenv(*text, name)) {
    into.set(entry.key, std::move(entry.value), name + ":" + std::to_string(entry.line));
  }
}

void load_environment(config& into) {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view assignment(*entry);
    const auto equals = assignment.find('=');
    const std::string_view name = assignment.substr(0, equals);
    if (equals != npos && (name == "DATABASE_URL" || name.starts_with("EVSTORE_"))) {
      into.set(std::string(name), std::string(assignment.substr(equals + 1)), "environment");
    }
  }
}

// Whole seconds with optional decimals ("2", "0.5"), rounded to milliseconds.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) {
  // Twelve digits of seconds keep the milliseconds far from overflowing.
  constexpr std::size_t max_whole_digits = 12;
  constexpr std::size_t millisecond_digits = 3;
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || whole.size() > max_whole_digits || !is_all_digits(whole) ||
      (dot != npos && fraction.empty()) || !is_all_digits(fraction)) {
    return std::nullopt;
  }
  std::int64_t millis = 0;
  for (const char digit : whole) {
    millis = millis * 10 + (digit - '0');
  }
  for (std::size_t i = 0; i < millisecond_digits; ++i) {
    millis = millis * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  if (fraction.size() > millisecond_digits && fraction[millisecond_digits] >= '5') {
    ++millis;
  }
  return std::chrono::milliseconds(millis);
}

}  // namespace

std::optional<std::string> database_url::param(std::string_view key) const {
  const auto found = std::find_if(params.begin(), params.end(),
                                  [key](const auto& param) { return param.first == key; });
  if (found == params.end()) {
    return std::nullopt;
  }
  return found->second;
}

std::string database_url::redacted() const {
  return serialise(*this, false);
}

std::string database_url::text_with_password() const {
  return serialise(*this, true);
}

database_url parse_database_url(std::string_view url) {
  const auto colon = scheme_end(url);
  std::string scheme = to_lower(url.substr(0, colon));
  const piece rest{url.substr(colon + 1), colon + 1};
  if (scheme == "sqlite") {
    return parse_sqlite_url(rest);
  }
  return parse_server_url(rest, std::move(scheme));
}

std::vector<dotenv_entry> parse_dotenv(std::string_view text, std::string_view source) {
  std::vector<dotenv_entry> entries;
  int number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const auto end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    if (auto entry = parse_dotenv_line(line, line_context{source, ++number})) {
      entries.push_back(std::move(*entry));
    }
    start = end + 1;
  }
  return entries;
}

config config::load(const std::filesystem::path& dir) {
  config loaded;
  load_dotenv_file(dir, ".env", loaded);
  load_dotenv_file(dir, ".env.local", loaded);
  load_environment(loaded);
  return loaded;
}

void config::set(const std::string& key, std::string text, std::string source) {
  values_.insert_or_assign(key, value{std::move(text), std::move(source)});
}

std::optional<std::string> config::get(std::string_view key) const {
  const auto found = values_.find(key);
  if (found == values_.end()) {
    return std::nullopt;
  }
  return found->second.text;
}

std::string config::origin(std::string_view key) const {
  const auto found = values_.find(key);
  return found == values_.end() ? "default" : found->second.origin;
}

database_url config::database() const {
  constexpr std::string_view key = "DATABASE_URL";
  const std::string url = get(key).value_or(std::string(default_database_url));
  try {
    return parse_database_url(url);
  } catch (const config_error& parse_error) {
    throw config_error(std::string(key) + " from " + origin(key) + ": " + parse_error.what());
  }
}

std::chrono::milliseconds config::seconds(std::string_view key,
                                          std::chrono::milliseconds fallback) const {
  const auto found = values_.find(key);
  if (found == values_.end()) {
    return fallback;
  }
  if (auto millis = parse_seconds(found->second.text)) {
    return *millis;
  }
  throw config_error(std::string(key) + " from " + found->second.origin +
                     ": expected a non-negative number of seconds, such as 2 or 0.5");
}

}  // namespace evstore
