#include "evstore/seed.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string_view>

#include <spdlog/fmt/fmt.h>

#include "evstore/error.hpp"
#include "evstore/store.hpp"

namespace evstore {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;

// ---------------------------------------------------------------------------------------------
// The random source. Everything below is specified to the bit: std::mt19937_64's output is
// fixed by the standard, SplitMix64 and the range mappings are written out here. Each draw is a
// statement of its own (or an element of a braced list, which is evaluated in order), never
// one of several arguments of a call, whose order of evaluation is unspecified.

// SplitMix64's finaliser (Steele, Lea and Flood, 2014): unrelated outputs from related inputs.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15U;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9U;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebU;
  return x ^ (x >> 31U);
}

// The seed of one stream: (seed, event index + 1, 0) for an event, (seed, event index + 1,
// medium index + 1) for a medium. One stream per row makes each row independent of how many
// others there are.
constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b);
}

class prng {
 public:
  explicit prng(std::uint64_t key) : engine_(key) {}

  std::uint64_t next() { return engine_(); }

  // Uniform in [0, n) for n > 0: rejects the 2^64 mod n lowest outputs, so that the accepted
  // range is a whole number of copies of [0, n) and the modulo has no bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t x = next();
      if (x >= threshold) {
        return x % n;
      }
    }
  }

  // Uniform in [low, high].
  std::int64_t between(std::int64_t low, std::int64_t high) {
    const auto span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low) + 1;
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + below(span));
  }

  // True with probability percent / 100.
  bool chance(std::uint64_t percent) { return below(100) < percent; }

  // An index drawn with the given integer weights.
  std::size_t weighted(std::span<const unsigned> weights) {
    std::uint64_t total = 0;
    for (const auto w : weights) {
      total += w;
    }
    auto x = below(total);
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) {
        return i;
      }
      x -= weights[i];
    }
    return weights.size() - 1;
  }

  template <typename Items>
  const auto& pick(const Items& items) {
    return items[below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------------------------
// What the data is made of.

struct city {
  std::string_view name;
  std::int64_t latitude_micro;  // degrees times 10^6, so that jitter is integer arithmetic
  std::int64_t longitude_micro;
  std::array<std::string_view, 3> venues;
};

constexpr std::array<city, 8> cities{{
    {"Berlin", 52520008, 13404954, {"Tempodrom", "Station Berlin", "Kulturbrauerei"}},
    {"Lisbon", 38722252, -9139337, {"LX Factory", "Coliseu dos Recreios", "MAAT"}},
    {"Montréal", 45501689, -73567256, {"Place des Arts", "Palais des congrès", "Olympia"}},
    {"Tokyo", 35676192, 139650311, {"Tokyo Big Sight", "Zepp Haneda", "Shibuya Stream Hall"}},
    {"Nairobi", -1292066, 36821946, {"KICC", "Alliance Française", "Carnivore Grounds"}},
    {"São Paulo", -23555771, -46639557, {"Allianz Parque", "Expo Center Norte", "Sesc Pompeia"}},
    {"Melbourne", -37813628, 144963058, {"Forum Melbourne", "Federation Square", "MCEC"}},
    {"Reykjavík", 64146582, -21942635, {"Harpa", "Iðnó", "Gamla Bíó"}},
}};
// Jitter around a city's centre, in micro-degrees: about 5.5 km north-south.
constexpr std::int64_t latitude_jitter = 50000;
constexpr std::int64_t longitude_jitter = 80000;

struct event_type {
  std::string_view name;
  std::string_view category;
  std::int64_t min_minutes, max_minutes;
  std::int64_t min_capacity, max_capacity;
};

constexpr std::array<event_type, 10> event_types{{
    {"Meetup", "tech", 90, 180, 30, 200},
    {"Conference", "tech", 480, 3 * 1440, 200, 3000},
    {"Hackathon", "tech", 1440, 2 * 1440, 40, 400},
    {"Concert", "music", 120, 240, 300, 20000},
    {"Festival", "music", 1440, 3 * 1440, 2000, 60000},
    {"Workshop", "education", 120, 480, 10, 40},
    {"Exhibition", "art", 1440, 14 * 1440, 100, 2000},
    {"Match", "sport", 90, 150, 1000, 60000},
    {"Marathon", "sport", 240, 420, 500, 40000},
    {"Wedding", "private", 360, 720, 50, 250},
}};

constexpr std::array<std::string_view, 14> adjectives{
    "Nordic", "Harbour", "Midnight", "Open",      "Spring", "Autumn", "Golden",
    "Urban",  "Coastal", "Annual",   "Riverside", "Winter", "Summer", "Community"};
constexpr std::array<std::string_view, 14> topics{
    "Jazz",  "Data",   "Rust",        "Photography", "Street Food", "Robotics", "Climate",
    "Indie", "Design", "Open Source", "Cinema",      "Chess",       "Poetry",   "Cycling"};
constexpr std::array<std::string_view, 10> tags{"outdoor", "indoor",     "family",     "networking",
                                                "free",    "livestream", "accessible", "students",
                                                "21+",     "hybrid"};
constexpr std::array<std::string_view, 8> audiences{
    "beginners",  "families",   "professionals", "students", "the whole neighbourhood",
    "night owls", "collectors", "everyone"};
constexpr std::array<std::string_view, 6> closings{"Doors open 30 minutes before the start.",
                                                   "Bring a friend.",
                                                   "Talks are recorded and published afterwards.",
                                                   "Step-free access; quiet room available.",
                                                   "Food trucks on site.",
                                                   "Programme subject to change."};

struct organiser {
  std::string_view name;
  std::string_view email;
};
constexpr std::array<organiser, 6> organisers{{
    {"Harbour Events Ltd", "events@harbour.example"},
    {"Nordlys Kollektiv", "hello@nordlys.example"},
    {"Ada Lovelace Society", "board@ada-society.example"},
    {"Club Atlético Central", "socios@cac.example"},
    {"Studio Kōbō", "info@kobo.example"},
    {"Associação do Cais", "festa@cais.example"},
}};

// completed, scheduled, live, draft, cancelled
constexpr std::array<unsigned, 5> status_weights{35, 25, 10, 15, 15};
constexpr std::array<event_status, 5> statuses{event_status::completed, event_status::scheduled,
                                               event_status::live, event_status::draft,
                                               event_status::cancelled};

// image, video, audio, document
constexpr std::array<unsigned, 4> kind_weights{60, 20, 8, 12};
constexpr std::array<media_kind, 4> kinds{media_kind::image, media_kind::video, media_kind::audio,
                                          media_kind::document};

// ready, pending, processing, failed: mostly processed, some still waiting.
constexpr std::array<unsigned, 4> media_status_weights{85, 8, 3, 4};
constexpr std::array<media_status, 4> media_statuses{
    media_status::ready, media_status::pending, media_status::processing, media_status::failed};

struct media_format {
  std::string_view mime_type;
  std::string_view extension;
  std::int64_t min_bytes, max_bytes;
};
constexpr std::array<media_format, 4> image_formats{{
    {"image/jpeg", "jpg", 200'000, 8'000'000},
    {"image/heic", "heic", 150'000, 5'000'000},
    {"image/png", "png", 50'000, 12'000'000},
    {"image/webp", "webp", 40'000, 3'000'000},
}};
constexpr std::array<media_format, 2> video_formats{{
    {"video/mp4", "mp4", 5'000'000, 2'000'000'000},
    {"video/quicktime", "mov", 10'000'000, 4'000'000'000},
}};
constexpr std::array<media_format, 3> audio_formats{{
    {"audio/mpeg", "mp3", 500'000, 50'000'000},
    {"audio/mp4", "m4a", 400'000, 40'000'000},
    {"audio/wav", "wav", 2'000'000, 500'000'000},
}};
constexpr std::array<media_format, 3> document_formats{{
    {"application/pdf", "pdf", 20'000, 10'000'000},
    {"text/plain", "txt", 1'000, 200'000},
    {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx", 100'000,
     60'000'000},
}};

struct resolution {
  std::int64_t width, height;
};
constexpr std::array<resolution, 4> photo_sizes{
    {{4032, 3024}, {6000, 4000}, {3024, 4032}, {1920, 1080}}};
constexpr std::array<resolution, 3> video_sizes{{{1920, 1080}, {3840, 2160}, {1080, 1920}}};
constexpr std::array<std::string_view, 5> cameras{"Pixel 8", "iPhone 15", "Sony A7 IV",
                                                  "Fujifilm X-T5", "DJI Mini 4"};
constexpr std::array<std::string_view, 3> codecs{"h264", "hevc", "av1"};

constexpr std::int64_t quarter_hour_us = 15LL * 60 * 1'000'000;

// ---------------------------------------------------------------------------------------------

std::int64_t micros_of(timestamp t) {
  return t.time_since_epoch().count();
}

timestamp at_micros(std::int64_t us) {
  return timestamp(microseconds(us));
}

// Floor to a quarter hour (times here are after 1970, so integer division floors).
std::int64_t quarter_floor(std::int64_t us) {
  return us - us % quarter_hour_us;
}

// A start time on a quarter hour in [low, high] (low <= high, both in microseconds).
std::int64_t quarter_between(prng& random, std::int64_t low, std::int64_t high) {
  const auto first =
      quarter_floor(low) < low ? quarter_floor(low) + quarter_hour_us : quarter_floor(low);
  if (high < first) {
    return first;
  }
  const auto slots = (high - first) / quarter_hour_us;
  return first + random.between(0, slots) * quarter_hour_us;
}

// UUIDv8 (RFC 9562 section 5.8): 48 bits of the row's time in Unix milliseconds, then bits
// from the generator, with the version (8) and variant (10) bits set.
uuid make_id(prng& random, timestamp time) {
  const auto ms = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::floor<milliseconds>(time).time_since_epoch().count()));
  std::array<std::uint8_t, 16> bytes{};
  for (int i = 0; i < 6; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  }
  const auto high = random.next();
  const auto low = random.next();
  for (std::size_t i = 0; i < 2; ++i) {
    bytes[6 + i] = static_cast<std::uint8_t>(high >> (8 * i));
  }
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[8 + i] = static_cast<std::uint8_t>(low >> (8 * i));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0FU) | 0x80U);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3FU) | 0x80U);
  return uuid(bytes);
}

// "20260115_093000" for a file name.
std::string compact_time(timestamp t) {
  const auto day = std::chrono::floor<days>(t);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{std::chrono::floor<std::chrono::seconds>(t - day)};
  return fmt::format("{:04}{:02}{:02}_{:02}{:02}{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

int year_of(timestamp t) {
  return static_cast<int>(std::chrono::year_month_day{std::chrono::floor<days>(t)}.year());
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

double degrees(std::int64_t micro) {
  // Division by a power of ten is correctly rounded in IEEE 754: the same double everywhere.
  return static_cast<double>(micro) / 1e6;
}

struct event_times {
  std::int64_t start_us = 0;
  std::optional<std::int64_t> end_us;
  std::int64_t span_us = 0;  // the span media are captured in
};

event_times times_for(prng& random, event_status status, std::int64_t duration_us,
                      const seed_timeline& timeline) {
  const auto from = micros_of(timeline.from);
  const auto to = std::max(from, micros_of(timeline.to));
  const auto now = micros_of(timeline.now);
  event_times times;
  switch (status) {
    case event_status::live: {
      // Started a whole number of quarter hours ago, ends after now.
      const auto slots = std::max<std::int64_t>(1, duration_us / quarter_hour_us);
      times.start_us = quarter_floor(now) - random.between(0, slots - 1) * quarter_hour_us;
      break;
    }
    case event_status::completed:
      times.start_us = quarter_between(random, from, std::max(from, now - duration_us));
      break;
    case event_status::scheduled:
    case event_status::draft:
      times.start_us = quarter_between(random, std::min(now + quarter_hour_us, to), to);
      break;
    case event_status::cancelled:
      times.start_us = quarter_between(random, from, to);
      break;
  }
  // A draft may not know its end yet.
  if (status != event_status::draft || random.chance(50)) {
    times.end_us = times.start_us + duration_us;
  }
  times.span_us = duration_us;
  return times;
}

nlohmann::json event_metadata(prng& random, const seed_plan& plan, std::int64_t index,
                              const event_type& type) {
  nlohmann::json chosen_tags = nlohmann::json::array();
  const auto tag_count = random.between(1, 4);
  const auto first = random.below(tags.size());
  for (std::int64_t t = 0; t < tag_count; ++t) {
    // Consecutive tags from a random start: distinct, in a stable order.
    chosen_tags.push_back(tags[(first + static_cast<std::uint64_t>(t)) % tags.size()]);
  }
  const auto& who = random.pick(organisers);
  nlohmann::json metadata = {
      {"source", "evstore seed"},
      {"seed", plan.seed},
      {"index", index},
      {"category", type.category},
      {"tags", chosen_tags},
      {"capacity", random.between(type.min_capacity, type.max_capacity)},
      {"organiser", {{"name", who.name}, {"email", who.email}}},
  };
  const bool ticketed = random.chance(60);
  metadata["ticketed"] = ticketed;
  if (ticketed) {
    metadata["price_cents"] = random.between(5, 250) * 100;
  }
  return metadata;
}

const media_format& format_for(prng& random, media_kind kind) {
  switch (kind) {
    case media_kind::image:
      return random.pick(image_formats);
    case media_kind::video:
      return random.pick(video_formats);
    case media_kind::audio:
      return random.pick(audio_formats);
    case media_kind::document:
      break;
  }
  return random.pick(document_formats);
}

// Many small files and a few large ones: a uniform value scaled by another uniform factor.
std::int64_t file_size(prng& random, const media_format& format) {
  const auto range = format.max_bytes - format.min_bytes;
  const auto a = random.between(0, 1000);
  const auto b = random.between(0, 1000);
  // Ordered so that no product exceeds 2^63 for ranges up to 10^12 bytes.
  return format.min_bytes + range / 1000 * a / 1000 * b / 1000 + random.between(0, 999);
}

nlohmann::json media_metadata(prng& random, media_kind kind, std::int64_t sequence,
                              std::int64_t size_bytes) {
  nlohmann::json metadata = {{"sequence", sequence}};
  switch (kind) {
    case media_kind::image: {
      const auto& size = random.pick(photo_sizes);
      metadata["width"] = size.width;
      metadata["height"] = size.height;
      metadata["camera"] = random.pick(cameras);
      break;
    }
    case media_kind::video: {
      const auto& size = random.pick(video_sizes);
      metadata["width"] = size.width;
      metadata["height"] = size.height;
      metadata["codec"] = random.pick(codecs);
      // About 8 Mbit/s.
      metadata["duration_s"] = std::max<std::int64_t>(1, size_bytes / 1'000'000);
      break;
    }
    case media_kind::audio:
      metadata["sample_rate"] = random.chance(70) ? 48000 : 44100;
      metadata["duration_s"] = std::max<std::int64_t>(1, size_bytes / 24'000);
      break;
    case media_kind::document:
      metadata["pages"] = random.between(1, 120);
      break;
  }
  return metadata;
}

std::string hex_digest(prng& random) {
  std::string text = "sha256:";
  for (int i = 0; i < 4; ++i) {
    text += fmt::format("{:016x}", random.next());
  }
  return text;
}

new_media generate_media(const seed_plan& plan, std::int64_t index, std::int64_t sequence,
                         const uuid& event_id, const event_times& times) {
  prng random(stream_key(plan.seed, static_cast<std::uint64_t>(index) + 1,
                         static_cast<std::uint64_t>(sequence) + 1));
  new_media m;
  m.event_id = event_id;
  m.kind = kinds[random.weighted(kind_weights)];
  m.captured_at =
      at_micros(times.start_us + static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(
                                     std::max<std::int64_t>(1, times.span_us)))));
  m.id = make_id(random, m.captured_at);
  const auto& format = format_for(random, m.kind);
  m.mime_type = std::string(format.mime_type);
  m.size_bytes = file_size(random, format);
  m.status = media_statuses[random.weighted(media_status_weights)];
  m.uri =
      fmt::format("s3://evstore-seed/events/{}/{}/{}_{:04}.{}", event_id.to_string(),
                  to_string(m.kind), compact_time(m.captured_at), sequence + 1, format.extension);
  // A checksum is computed when the upload is processed: pending uploads may not have one.
  if (m.status != media_status::pending || random.chance(50)) {
    m.checksum = hex_digest(random);
  }
  m.metadata = media_metadata(random, m.kind, sequence + 1, *m.size_bytes);
  return m;
}

void check(const seed_plan& plan) {
  if (plan.events < 0) {
    throw validation_error("events", "events: must be 0 or more");
  }
  if (plan.media_per_event < 0) {
    throw validation_error("media_per_event", "media_per_event: must be 0 or more");
  }
  if (plan.timeline.to < plan.timeline.from) {
    throw validation_error("timeline", "timeline: `from` is after `to`");
  }
}

}  // namespace

seed_item generate_seed_item(const seed_plan& plan, std::int64_t index) {
  check(plan);
  if (index < 0 || index >= plan.events) {
    throw validation_error("index",
                           fmt::format("index: {} is outside 0..{}", index, plan.events - 1));
  }
  prng random(stream_key(plan.seed, static_cast<std::uint64_t>(index) + 1, 0));
  const auto& type = random.pick(event_types);
  const auto status = statuses[random.weighted(status_weights)];
  const auto minutes_long = random.between(type.min_minutes, type.max_minutes) / 15 * 15;
  const auto times = times_for(
      random, status, std::max<std::int64_t>(15, minutes_long) * 60'000'000, plan.timeline);

  seed_item item;
  auto& e = item.event;
  e.start_time = at_micros(times.start_us);
  if (times.end_us) {
    e.end_time = at_micros(*times.end_us);
  }
  e.status = status;
  e.id = make_id(random, e.start_time);
  const auto& adjective = random.pick(adjectives);
  const auto& topic = random.pick(topics);
  e.title = fmt::format("{} {} {}", adjective, topic, type.name);
  if (random.chance(30)) {
    e.title += fmt::format(" {}", year_of(e.start_time));
  }

  const auto where = random.below(100);
  std::string place = "at a venue to be announced";
  if (where < 88) {
    const auto& c = random.pick(cities);
    const auto& venue = c.venues[random.below(c.venues.size())];
    e.location_name = fmt::format("{}, {}", venue, c.name);
    e.coordinates =
        geo_point{degrees(c.latitude_micro + random.between(-latitude_jitter, latitude_jitter)),
                  degrees(c.longitude_micro + random.between(-longitude_jitter, longitude_jitter))};
    place = fmt::format("in {}", c.name);
  } else if (where < 94) {
    e.location_name = "Online";
    place = "online";
  }
  if (random.chance(75)) {
    // One draw per statement: the order in which a call's arguments are evaluated is
    // unspecified, and would differ between compilers.
    const auto& audience = random.pick(audiences);
    const auto& closing = random.pick(closings);
    e.description = fmt::format("A {} about {} for {}, {}. {}", lower(type.name), topic, audience,
                                place, closing);
  }
  e.metadata = event_metadata(random, plan, index, type);

  item.media.reserve(static_cast<std::size_t>(plan.media_per_event));
  for (std::int64_t j = 0; j < plan.media_per_event; ++j) {
    item.media.push_back(generate_media(plan, index, j, *e.id, times));
  }
  return item;
}

namespace {

// The items of a plan, samples first, produced one at a time.
class item_source {
 public:
  explicit item_source(const seed_plan& plan) : plan_(plan) {}

  [[nodiscard]] bool done() const {
    return next_ >= static_cast<std::int64_t>(plan_.samples.size()) + plan_.events;
  }

  seed_item next() {
    const auto samples = static_cast<std::int64_t>(plan_.samples.size());
    const auto position = next_++;
    if (position < samples) {
      return plan_.samples[static_cast<std::size_t>(position)];
    }
    return generate_seed_item(plan_, position - samples);
  }

 private:
  const seed_plan& plan_;
  std::int64_t next_ = 0;
};

}  // namespace

seed_progress seed_database(store& target, const seed_plan& plan, const seed_options& options) {
  check(plan);
  for (const auto& sample : plan.samples) {
    if (!sample.event.id) {
      throw validation_error("id", fmt::format("id: sample event \"{}\" has no id, so seeding "
                                               "could not tell whether it is stored already",
                                               sample.event.title));
    }
  }
  const auto started = std::chrono::steady_clock::now();
  const auto batch_rows = std::max<std::size_t>(1, options.batch_rows);
  seed_progress progress;
  for (const auto& sample : plan.samples) {
    progress.rows_total += 1 + static_cast<std::int64_t>(sample.media.size());
  }
  progress.rows_total += plan.events * (1 + plan.media_per_event);

  item_source items(plan);
  while (!items.done()) {
    std::vector<seed_item> batch;
    std::size_t rows = 0;
    while (!items.done() && rows < batch_rows) {
      batch.push_back(items.next());
      rows += 1 + batch.back().media.size();
    }

    seed_progress step;
    // Retried whole on a transient failure: `step` is recomputed by every attempt.
    target.transaction([&](transaction& tx) {
      step = {};
      std::vector<new_event> events;
      std::vector<new_media> media;
      for (const auto& item : batch) {
        if (tx.events().get(*item.event.id)) {
          ++step.events_existing;
          step.media_skipped += static_cast<std::int64_t>(item.media.size());
          continue;
        }
        events.push_back(item.event);
        media.insert(media.end(), item.media.begin(), item.media.end());
      }
      if (!events.empty()) {
        (void)tx.events().create_many(events);
      }
      for (std::size_t first = 0; first < media.size(); first += batch_rows) {
        const auto last = std::min(media.size(), first + batch_rows);
        (void)tx.media().add_many(
            std::vector<new_media>(media.begin() + static_cast<std::ptrdiff_t>(first),
                                   media.begin() + static_cast<std::ptrdiff_t>(last)));
      }
      step.events_inserted = static_cast<std::int64_t>(events.size());
      step.media_inserted = static_cast<std::int64_t>(media.size());
    });

    progress.events_inserted += step.events_inserted;
    progress.media_inserted += step.media_inserted;
    progress.events_existing += step.events_existing;
    progress.media_skipped += step.media_skipped;
    progress.rows_done += static_cast<std::int64_t>(rows);
    progress.elapsed = std::chrono::steady_clock::now() - started;
    if (options.on_progress) {
      options.on_progress(progress);
    }
  }
  progress.elapsed = std::chrono::steady_clock::now() - started;
  return progress;
}

}  // namespace evstore
