#include "evstore/migration.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/fmt/fmt.h>

#include "evstore/error.hpp"

namespace evstore {
namespace {

constexpr std::string_view up_suffix = ".up.sql";
constexpr std::string_view down_suffix = ".down.sql";

struct file_name_parts {
  std::int64_t version = 0;
  std::string name;
  bool up = true;
};

// "0001_create_events.up.sql" -> {1, "create_events", up}.
file_name_parts parse_file_name(const std::string& file, const std::string& origin) {
  const bool up = file.ends_with(up_suffix);
  const bool down = file.ends_with(down_suffix);
  const auto stem = std::string_view(file).substr(0, file.size() - (up     ? up_suffix.size()
                                                                    : down ? down_suffix.size()
                                                                           : 0));
  const auto underscore = stem.find('_');
  file_name_parts parts;
  parts.up = up;
  const auto digits = stem.substr(0, underscore);
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), parts.version);
  const bool valid_name =
      underscore != std::string_view::npos && underscore + 1 < stem.size() &&
      std::all_of(
          stem.begin() + static_cast<std::ptrdiff_t>(underscore) + 1, stem.end(),
          [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
  if (!(up || down) || ec != std::errc() || end != digits.data() + digits.size() ||
      digits.empty() || parts.version <= 0 || !valid_name) {
    throw migration_error(fmt::format(
        "{}/{}: not a migration file name; expected NNNN_name.up.sql or NNNN_name.down.sql "
        "(NNNN a positive version, name of a-z, 0-9 and _)",
        origin, file));
  }
  parts.name = std::string(stem.substr(underscore + 1));
  return parts;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw error(error_category::database, "SHA-256 failed in OpenSSL");
  }
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

std::vector<migration> parse_migrations(const std::vector<migration_file>& files,
                                        const std::string& origin) {
  std::map<std::int64_t, migration> by_version;
  std::map<std::int64_t, const migration_file*> downs;
  for (const auto& file : files) {
    const auto parts = parse_file_name(file.name, origin);
    if (!parts.up) {
      if (!downs.emplace(parts.version, &file).second) {
        throw migration_error(
            fmt::format("{}: two down files for version {}", origin, parts.version));
      }
      continue;
    }
    migration m;
    m.version = parts.version;
    m.name = parts.name;
    m.up = file.text;
    m.checksum = sha256_hex(file.text);
    m.transactional = !std::string_view(file.text).starts_with(no_transaction_directive);
    m.origin = origin + "/" + file.name;
    if (const auto [existing, added] = by_version.emplace(m.version, std::move(m)); !added) {
      throw migration_error(fmt::format("{}: version {} is used twice ({} and {})", origin,
                                        parts.version, existing->second.origin, file.name));
    }
  }
  for (const auto& [version, file] : downs) {
    const auto found = by_version.find(version);
    if (found == by_version.end()) {
      throw migration_error(
          fmt::format("{}/{}: a down file without its up file", origin, file->name));
    }
    found->second.down = file->text;
  }
  std::vector<migration> ordered;
  for (auto& [version, m] : by_version) {
    ordered.push_back(std::move(m));
  }
  return ordered;
}

std::vector<migration> read_migrations(const std::filesystem::path& folder) {
  std::error_code ec;
  std::vector<migration_file> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder, ec)) {
    if (entry.path().extension() != ".sql") {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      throw migration_error(fmt::format("{}: cannot be read", entry.path().string()));
    }
    files.push_back({entry.path().filename().string(), text.str()});
  }
  if (ec) {
    throw migration_error(
        fmt::format("migrations folder {}: cannot be read: {}", folder.string(), ec.message()));
  }
  return parse_migrations(files, folder.string());
}

}  // namespace evstore
