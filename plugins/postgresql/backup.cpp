// Backup and restore through pg_dump and pg_restore (custom format), run as child processes.
// pg_dump reads the database in one repeatable-read snapshot, so the backup is consistent while
// others write. The connection reaches the tools in PG* environment variables, never on their
// command line, which any local user can read with `ps`; what they print is redacted before it
// is shown. Their major version must be the server's.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <soci/soci.h>

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <evstore/error.hpp>
#include <evstore/redact.hpp>

#include "backend.hpp"

namespace fs = std::filesystem;

namespace evstore::postgresql {
namespace {

constexpr std::string_view backend_name = "postgresql";
// Where Debian installs the client tools of the PostgreSQL version this code targets; the
// folder of the server's own major version is tried first.
constexpr std::string_view debian_bindir = "/usr/lib/postgresql/15/bin";
// The most of a tool's output kept for messages (the end of it, where the error is).
constexpr std::size_t max_output_bytes = 1024 * 1024;
// How long pg_dump waits for a table lock, and pg_restore for its DROP/CREATE locks, before
// giving up (a migration or a long transaction holding them); a restore then changes nothing.
constexpr std::string_view lock_wait = "60s";

// URL query parameters and the libpq environment variable that carries each one.
constexpr std::array<std::pair<std::string_view, std::string_view>, 29> parameter_variables{{
    {"host", "PGHOST"},
    {"hostaddr", "PGHOSTADDR"},
    {"port", "PGPORT"},
    {"dbname", "PGDATABASE"},
    {"user", "PGUSER"},
    {"password", "PGPASSWORD"},
    {"passfile", "PGPASSFILE"},
    {"channel_binding", "PGCHANNELBINDING"},
    {"service", "PGSERVICE"},
    {"options", "PGOPTIONS"},
    {"application_name", "PGAPPNAME"},
    {"sslmode", "PGSSLMODE"},
    {"requiressl", "PGREQUIRESSL"},
    {"sslcompression", "PGSSLCOMPRESSION"},
    {"sslcert", "PGSSLCERT"},
    {"sslkey", "PGSSLKEY"},
    {"sslrootcert", "PGSSLROOTCERT"},
    {"sslcrl", "PGSSLCRL"},
    {"sslcrldir", "PGSSLCRLDIR"},
    {"sslsni", "PGSSLSNI"},
    {"requirepeer", "PGREQUIREPEER"},
    {"ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"},
    {"ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"},
    {"gssencmode", "PGGSSENCMODE"},
    {"krbsrvname", "PGKRBSRVNAME"},
    {"gsslib", "PGGSSLIB"},
    {"connect_timeout", "PGCONNECT_TIMEOUT"},
    {"client_encoding", "PGCLIENTENCODING"},
    {"target_session_attrs", "PGTARGETSESSIONATTRS"},
}};

// Parameters that have no environment variable and change nothing a dump depends on: TCP
// tuning, and a fallback name (PGAPPNAME is set anyway).
constexpr std::array<std::string_view, 6> ignorable_parameters{
    "keepalives",       "keepalives_idle",  "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "fallback_application_name"};

// The environment of a tool: ours without any PG* variable (a stray PGDATABASE must not
// redirect the backup), plus the connection of `url`.
std::vector<std::string> tool_environment(const database_url& url, std::string_view application,
                                          std::string_view server_options) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::string_view(*entry).substr(0, 2) != "PG") {
      environment.emplace_back(*entry);
    }
  }
  std::map<std::string, std::string> pg{{"PGAPPNAME", std::string(application)},
                                        {"PGCONNECT_TIMEOUT", "10"}};
  // libpq reads comma lists from PGHOST and PGPORT as from `host` and `port`: the tools try
  // every host of a multi-host URL, and PGTARGETSESSIONATTRS (below) picks among them.
  auto [hosts, ports] = host_lists(url);
  if (!hosts.empty()) {
    pg["PGHOST"] = std::move(hosts);
  }
  if (!ports.empty()) {
    pg["PGPORT"] = std::move(ports);
  }
  if (!url.database.empty()) {
    pg["PGDATABASE"] = url.database;
  }
  if (!url.user.empty()) {
    pg["PGUSER"] = url.user;
  }
  if (!url.password.empty()) {
    pg["PGPASSWORD"] = url.password;
  }
  for (const auto& [key, value] : url.params) {
    const auto* mapped =
        std::find_if(parameter_variables.begin(), parameter_variables.end(),
                     [&key = key](const auto& entry) { return entry.first == key; });
    if (mapped != parameter_variables.end()) {
      pg[std::string(mapped->second)] = value;
    } else if (std::find(ignorable_parameters.begin(), ignorable_parameters.end(), key) ==
               ignorable_parameters.end()) {
      throw config_error(fmt::format(
          "postgresql: the URL parameter \"{}\" cannot be passed to pg_dump and pg_restore: they "
          "take the connection from PG* environment variables, and libpq has none for it",
          key));
    }
  }
  if (!server_options.empty()) {
    // Appended, so that they win over the URL's `options`: later -c settings override.
    auto& options = pg["PGOPTIONS"];
    options = options.empty() ? std::string(server_options)
                              : fmt::format("{} {}", options, server_options);
  }
  for (const auto& [key, value] : pg) {
    environment.push_back(key + "=" + value);
  }
  return environment;
}

struct tool_result {
  int status = 0;      // as waitpid gives it
  std::string output;  // stdout and stderr together, at most max_output_bytes (the end)
};

bool succeeded(const tool_result& result) {
  return WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0;
}

std::string describe(const tool_result& result) {
  if (WIFEXITED(result.status)) {
    return fmt::format("exit status {}", WEXITSTATUS(result.status));
  }
  if (WIFSIGNALED(result.status)) {
    return fmt::format("killed by signal {}", WTERMSIG(result.status));
  }
  return "stopped";
}

// The output as one line per message, without trailing blank lines.
std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

// Runs `program` with `arguments` and exactly `environment`, stdin from /dev/null, and collects
// its output. posix_spawn, not fork: the process may have threads (a store's pool).
tool_result run_tool(const fs::path& program, const std::vector<std::string>& arguments,
                     const std::vector<std::string>& environment) {
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    throw error(
        error_category::database,
        fmt::format("postgresql: cannot run {}: pipe: {}", program.string(), std::strerror(errno)),
        "", std::string(backend_name));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);

  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const auto& argument : arguments) {
    argv.push_back(const_cast<char*>(argument.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : environment) {
    envp.push_back(const_cast<char*>(entry.c_str()));
  }
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int spawned =
      ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    throw config_error(
        fmt::format("postgresql: cannot run {}: {}", program.string(), std::strerror(spawned)));
  }

  tool_result result;
  std::array<char, 8192> buffer{};
  for (;;) {
    const auto got = ::read(pipe_fds[0], buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;
    }
    result.output.append(buffer.data(), static_cast<std::size_t>(got));
    if (result.output.size() > 2 * max_output_bytes) {
      result.output.erase(0, result.output.size() - max_output_bytes);
    }
  }
  ::close(pipe_fds[0]);
  while (::waitpid(pid, &result.status, 0) < 0) {
    if (errno != EINTR) {
      throw error(
          error_category::database,
          fmt::format("postgresql: waiting for {}: {}", program.string(), std::strerror(errno)), "",
          std::string(backend_name));
    }
  }
  if (result.output.size() > max_output_bytes) {
    result.output.erase(0, result.output.size() - max_output_bytes);
  }
  return result;
}

// A major version as a number that compares as PostgreSQL's do: 15 for 15.x, 906 for 9.6.x.
struct release {
  int major = 0;
  std::string text;  // "15.18"
};

// The server's release, from its own connection.
release server_release(const postgresql_backend& backend, const database_url& url) {
  connect_options options;
  options.application_name = "evstore-backup";
  const auto session = backend.open(url, options);
  std::string number;
  std::string text;
  try {
    *session << "SHOW server_version_num", soci::into(number);
    *session << "SHOW server_version", soci::into(text);
  } catch (...) {
    backend.rethrow_translated(std::current_exception(), "reading the server version");
  }
  const int value = std::atoi(number.c_str());
  release server;
  server.major = value >= 100000 ? value / 10000 : value / 100;
  server.text = text.substr(0, text.find(' '));
  return server;
}

// "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> 15, "15.18".
std::optional<release> tool_release(std::string_view version_output) {
  const auto marker = version_output.find("(PostgreSQL) ");
  if (marker == std::string_view::npos) {
    return std::nullopt;
  }
  auto rest = version_output.substr(marker + 13);
  const auto end = rest.find_first_not_of("0123456789.");
  rest = rest.substr(0, end);
  if (rest.empty()) {
    return std::nullopt;
  }
  const int first = std::atoi(std::string(rest).c_str());
  const auto dot = rest.find('.');
  const int second =
      dot == std::string_view::npos ? 0 : std::atoi(std::string(rest.substr(dot + 1)).c_str());
  return release{first >= 10 ? first : first * 100 + second, std::string(rest)};
}

struct found_tool {
  fs::path file;
  release version;
};

// Finds `name` of the server's major version: in EVSTORE_PG_BINDIR alone when it is set, else
// on PATH, then in /usr/lib/postgresql/<server major>/bin, then in /usr/lib/postgresql/15/bin.
found_tool find_tool(std::string_view name, const release& server,
                     const std::vector<std::string>& environment) {
  std::vector<fs::path> candidates;
  std::string searched;
  const char* bindir = std::getenv("EVSTORE_PG_BINDIR");
  if (bindir != nullptr && *bindir != '\0') {
    candidates.push_back(fs::path(bindir) / name);
    searched = fmt::format("EVSTORE_PG_BINDIR ({})", bindir);
  } else {
    const char* path = std::getenv("PATH");
    std::string_view folders = path != nullptr ? path : "";
    while (!folders.empty()) {
      const auto colon = folders.find(':');
      const auto folder = folders.substr(0, colon);
      // Relative entries would resolve against the working directory: never searched.
      if (!folder.empty() && folder.front() == '/') {
        candidates.push_back(fs::path(folder) / name);
      }
      folders = colon == std::string_view::npos ? std::string_view() : folders.substr(colon + 1);
    }
    const auto own = fmt::format("/usr/lib/postgresql/{}/bin", server.major);
    candidates.push_back(fs::path(own) / name);
    candidates.push_back(fs::path(debian_bindir) / name);
    searched = fmt::format("PATH, {} and {}", own, debian_bindir);
  }

  std::vector<found_tool> mismatched;
  std::vector<fs::path> tried;
  for (const auto& candidate : candidates) {
    std::error_code failure;
    if (!fs::is_regular_file(candidate, failure) || ::access(candidate.c_str(), X_OK) != 0 ||
        std::find(tried.begin(), tried.end(), candidate) != tried.end()) {
      continue;
    }
    tried.push_back(candidate);
    const auto result = run_tool(candidate, {"--version"}, environment);
    const auto version = succeeded(result) ? tool_release(result.output) : std::nullopt;
    if (!version) {
      spdlog::debug("postgresql: {} --version answered \"{}\"; skipped", candidate.string(),
                    trimmed(result.output));
      continue;
    }
    if (version->major == server.major) {
      spdlog::debug("postgresql: using {} {}", candidate.string(), version->text);
      return {candidate, *version};
    }
    mismatched.push_back({candidate, *version});
  }
  const auto remedy = fmt::format(
      "install the PostgreSQL {0} client tools (Debian: postgresql-client-{0}) or "
      "set EVSTORE_PG_BINDIR to the folder holding them",
      server.major < 100 ? std::to_string(server.major) : server.text);
  if (mismatched.empty()) {
    throw config_error(fmt::format("postgresql: {} not found in {}; {}", name, searched, remedy));
  }
  const auto& other = mismatched.front();
  throw config_error(fmt::format(
      "postgresql: {} {} ({}) does not match the server, PostgreSQL {}: the major versions "
      "must be equal; {}",
      name, other.version.text, other.file.string(), server.text, remedy));
}

[[noreturn]] void tool_failed(std::string_view name, const tool_result& result,
                              const database_url& url, std::string_view what) {
  throw error(error_category::database,
              redact(fmt::format("postgresql: {} failed ({}) {}: {}", name, describe(result), what,
                                 trimmed(result.output)),
                     url.password),
              "", std::string(backend_name));
}

// Whether `file` starts with the magic of a pg_dump custom-format archive.
bool has_archive_magic(const fs::path& file) {
  std::string start(5, '\0');
  std::ifstream in(file, std::ios::binary);
  return in.read(start.data(), static_cast<std::streamsize>(start.size())) && start == "PGDMP";
}

}  // namespace

void postgresql_backend::backup(const database_url& url, const fs::path& output) const {
  const auto environment = tool_environment(url, "evstore-backup", "");
  const auto server = server_release(*this, url);
  const auto pg_dump = find_tool("pg_dump", server, environment);
  // No database argument: pg_dump takes PGDATABASE from the environment.
  const auto result =
      run_tool(pg_dump.file,
               {"--format=custom", "--no-password",
                fmt::format("--lock-wait-timeout={}", lock_wait), "--file=" + output.string()},
               environment);
  if (!succeeded(result)) {
    tool_failed("pg_dump", result, url, fmt::format("backing up {}", url.redacted()));
  }
}

void postgresql_backend::restore(const database_url& url, const fs::path& input) const {
  if (!has_archive_magic(input)) {
    throw config_error(fmt::format(
        "postgresql: {} is not a PostgreSQL backup: it is not a pg_dump custom-format archive "
        "(was it made by `evstore backup` from a PostgreSQL database?)",
        input.string()));
  }
  const auto environment =
      tool_environment(url, "evstore-restore", fmt::format("-c lock_timeout={}", lock_wait));
  const auto server = server_release(*this, url);
  const auto pg_restore = find_tool("pg_restore", server, environment);

  const auto contents = run_tool(pg_restore.file, {"--list", input.string()}, environment);
  if (!succeeded(contents)) {
    tool_failed("pg_restore", contents, url, fmt::format("reading {}", input.string()));
  }
  if (contents.output.find(" evstore_schema_migrations ") == std::string::npos) {
    throw config_error(fmt::format(
        "postgresql: {} is not an evstore backup: it has no evstore_schema_migrations table",
        input.string()));
  }
  // One transaction: a failed restore changes nothing. --clean --if-exists drops the objects
  // the archive holds before creating them, so that a migrated or used database is replaced.
  // Owners and grants are left out: roles are not part of the backup (docs/backup.md).
  // `--dbname=postgresql://` is a URI with every part left out: libpq fills each one from the
  // PG* environment, as pg_dump does without a database argument.
  const auto result =
      run_tool(pg_restore.file,
               {"--clean", "--if-exists", "--single-transaction", "--no-owner", "--no-privileges",
                "--no-password", "--dbname=postgresql://", input.string()},
               environment);
  if (!succeeded(result)) {
    tool_failed(
        "pg_restore", result, url,
        fmt::format("restoring {} into {}; nothing was changed", input.string(), url.redacted()));
  }
}

}  // namespace evstore::postgresql
