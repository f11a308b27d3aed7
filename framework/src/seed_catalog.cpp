#include "evstore/seed_catalog.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <spdlog/fmt/fmt.h>

#include "evstore/error.hpp"
#include "evstore/validation.hpp"
#include "seed_files.hpp"

namespace evstore {
namespace {

constexpr std::string_view profiles_file = "profiles.json";
constexpr std::string_view samples_file = "sample_events.json";

// Reads `count` decimal digits of `text` at `at`, or returns -1.
int digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) {
    return -1;
  }
  int value = 0;
  const auto* first = text.data() + at;
  const auto [end, error] = std::from_chars(first, first + count, value);
  return error == std::errc() && end == first + count ? value : -1;
}

// "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z", UTC.
timestamp parse_utc(std::string_view text, const std::string& where) {
  const auto fail = [&] {
    return config_error(
        fmt::format("{}: \"{}\" is not a UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z", where, text));
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    throw fail();
  }
  const int y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  const int h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  std::int64_t fraction = 0;
  if (text.size() > 20) {
    const auto count = text.size() - 21;
    if (text[19] != '.' || count < 1 || count > 6) {
      throw fail();
    }
    const int value = digits(text, 20, count);
    if (value < 0) {
      throw fail();
    }
    fraction = value;
    for (auto i = count; i < 6; ++i) {
      fraction *= 10;
    }
  }
  const std::chrono::year_month_day date{std::chrono::year(y),
                                         std::chrono::month(static_cast<unsigned>(mo)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 ||
      !date.ok()) {
    throw fail();
  }
  return timestamp(std::chrono::sys_days(date)) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s) + std::chrono::microseconds(fraction);
}

nlohmann::json parse_json(std::string_view text, std::string_view file) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw config_error(fmt::format("seeds/{}: not valid JSON: {}", file, e.what()));
  }
}

// The member `key` of `object` as T, with a message naming `where` when it is missing or of
// another type.
template <typename T>
T member(const nlohmann::json& object, std::string_view key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) {
    throw config_error(fmt::format("{}: \"{}\" is missing", where, key));
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw config_error(fmt::format("{}: \"{}\" has the wrong type", where, key));
  }
}

// An optional text member: absent or null gives nullopt.
std::optional<std::string> optional_text(const nlohmann::json& object, std::string_view key,
                                         const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return std::nullopt;
  }
  return member<std::string>(object, key, where);
}

new_media parse_media(const nlohmann::json& entry, const uuid& event_id, const std::string& where) {
  new_media m;
  m.id = uuid::parse(member<std::string>(entry, "id", where));
  m.event_id = event_id;
  m.kind = parse_media_kind(member<std::string>(entry, "kind", where));
  m.uri = member<std::string>(entry, "uri", where);
  m.mime_type = optional_text(entry, "mime_type", where);
  if (const auto it = entry.find("size_bytes"); it != entry.end() && !it->is_null()) {
    m.size_bytes = member<std::int64_t>(entry, "size_bytes", where);
  }
  m.checksum = optional_text(entry, "checksum", where);
  m.captured_at = parse_utc(member<std::string>(entry, "captured_at", where), where);
  m.status = parse_media_status(member<std::string>(entry, "status", where));
  m.metadata = entry.value("metadata", nlohmann::json::object());
  return m;
}

seed_item parse_sample_fields(const nlohmann::json& entry, std::string where) {
  seed_item item;
  auto& e = item.event;
  e.id = uuid::parse(member<std::string>(entry, "id", where));
  where += fmt::format(" ({})", e.id->to_string());
  e.title = member<std::string>(entry, "title", where);
  e.description = optional_text(entry, "description", where);
  e.status = parse_event_status(member<std::string>(entry, "status", where));
  e.start_time = parse_utc(member<std::string>(entry, "start_time", where), where);
  if (const auto end = optional_text(entry, "end_time", where)) {
    e.end_time = parse_utc(*end, where);
  }
  if (const auto it = entry.find("location"); it != entry.end() && !it->is_null()) {
    e.location_name = optional_text(*it, "name", where + " location");
    if (it->contains("latitude") || it->contains("longitude")) {
      e.coordinates = geo_point{member<double>(*it, "latitude", where + " location"),
                                member<double>(*it, "longitude", where + " location")};
    }
  }
  e.metadata = entry.value("metadata", nlohmann::json::object());
  if (const auto it = entry.find("media"); it != entry.end()) {
    for (std::size_t j = 0; j < it->size(); ++j) {
      item.media.push_back(parse_media((*it)[j], *e.id, fmt::format("{} medium {}", where, j + 1)));
    }
  }
  validate(e);
  for (const auto& m : item.media) {
    validate(m);
  }
  return item;
}

seed_item parse_sample(const nlohmann::json& entry, std::size_t index) {
  const auto where = fmt::format("seeds/{} event {}", samples_file, index + 1);
  if (!entry.is_object()) {
    throw config_error(where + ": not an object");
  }
  try {
    return parse_sample_fields(entry, where);
  } catch (const validation_error& failure) {
    // A bad id, status, kind or field value: the file is at fault, not a caller.
    throw config_error(fmt::format("{}: {}", where, failure.what()));
  }
}

}  // namespace

seed_catalog seed_catalog::builtin() {
  std::string_view profiles;
  std::string_view samples;
  for (const auto& file : detail::embedded_seed_files()) {
    if (file.name == profiles_file) {
      profiles = file.text;
    } else if (file.name == samples_file) {
      samples = file.text;
    }
  }
  return parse(profiles, samples);
}

seed_catalog seed_catalog::parse(std::string_view profiles_json, std::string_view samples_json) {
  seed_catalog catalog;
  const auto profiles = parse_json(profiles_json, profiles_file);
  const auto where = fmt::format("seeds/{}", profiles_file);
  if (!profiles.is_object()) {
    throw config_error(where + ": not an object");
  }
  catalog.default_profile = member<std::string>(profiles, "default_profile", where);
  catalog.default_seed = member<std::uint64_t>(profiles, "default_seed", where);
  const auto timeline = member<nlohmann::json>(profiles, "timeline", where);
  const auto timeline_where = where + " timeline";
  catalog.timeline.from =
      parse_utc(member<std::string>(timeline, "from", timeline_where), timeline_where);
  catalog.timeline.to =
      parse_utc(member<std::string>(timeline, "to", timeline_where), timeline_where);
  catalog.timeline.now =
      parse_utc(member<std::string>(timeline, "now", timeline_where), timeline_where);
  if (catalog.timeline.to < catalog.timeline.from) {
    throw config_error(timeline_where + ": \"from\" is after \"to\"");
  }
  const auto named_profiles = member<nlohmann::json>(profiles, "profiles", where);
  for (const auto& [name, entry] : named_profiles.items()) {
    const auto profile_where = fmt::format("{} profile \"{}\"", where, name);
    seed_profile p{name, entry.value("description", ""),
                   member<std::int64_t>(entry, "events", profile_where),
                   member<std::int64_t>(entry, "media_per_event", profile_where)};
    if (p.events < 0 || p.media_per_event < 0) {
      throw config_error(profile_where + ": sizes must be 0 or more");
    }
    catalog.profiles.push_back(std::move(p));
  }
  (void)catalog.profile(catalog.default_profile);

  const auto samples = parse_json(samples_json, samples_file);
  if (!samples.is_array()) {
    throw config_error(fmt::format("seeds/{}: not an array", samples_file));
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    catalog.samples.push_back(parse_sample(samples[i], i));
  }
  return catalog;
}

const seed_profile& seed_catalog::profile(std::string_view name) const {
  const auto it = std::find_if(profiles.begin(), profiles.end(),
                               [&](const seed_profile& p) { return p.name == name; });
  if (it == profiles.end()) {
    std::vector<std::string> names;
    for (const auto& p : profiles) {
      names.push_back(p.name);
    }
    throw config_error(
        fmt::format("no seed profile \"{}\": the profiles are {}", name, fmt::join(names, ", ")));
  }
  return *it;
}

seed_plan seed_catalog::plan(const seed_profile& profile, std::uint64_t seed) const {
  return {seed, profile.events, profile.media_per_event, timeline, samples};
}

}  // namespace evstore
