#include "timestamps.hpp"

#include <charconv>
#include <chrono>
#include <stdexcept>

#include <spdlog/fmt/fmt.h>

namespace evstore::bench {
namespace {

int digits(std::string_view text, std::size_t at, std::size_t count) {
  int value = 0;
  const auto* first = text.data() + at;
  const auto [end, failure] = std::from_chars(first, first + count, value);
  if (failure != std::errc{} || end != first + count) {
    throw std::runtime_error(fmt::format("not a PostgreSQL timestamp: \"{}\"", text));
  }
  return value;
}

}  // namespace

std::string to_postgresql_text(timestamp t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss time(t - day);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count(),
                     time.subseconds().count());
}

timestamp parse_postgresql_timestamp(std::string_view text) {
  constexpr std::size_t seconds_end = 19;  // "YYYY-MM-DD HH:MM:SS"
  if (text.size() < seconds_end + 3 || text.substr(text.size() - 3) != "+00") {
    throw std::runtime_error(fmt::format("not a PostgreSQL timestamp in UTC: \"{}\"", text));
  }
  const std::chrono::year_month_day date{std::chrono::year(digits(text, 0, 4)),
                                         std::chrono::month(digits(text, 5, 2)),
                                         std::chrono::day(digits(text, 8, 2))};
  auto micros =
      std::chrono::sys_days(date).time_since_epoch() + std::chrono::hours(digits(text, 11, 2)) +
      std::chrono::minutes(digits(text, 14, 2)) + std::chrono::seconds(digits(text, 17, 2));
  const auto fraction_end = text.size() - 3;
  if (fraction_end > seconds_end) {
    const auto count = fraction_end - seconds_end - 1;
    if (text[seconds_end] != '.' || count < 1 || count > 6) {
      throw std::runtime_error(fmt::format("not a PostgreSQL timestamp: \"{}\"", text));
    }
    int fraction = digits(text, seconds_end + 1, count);
    for (auto i = count; i < 6; ++i) {
      fraction *= 10;
    }
    return timestamp(std::chrono::duration_cast<std::chrono::microseconds>(micros) +
                     std::chrono::microseconds(fraction));
  }
  return timestamp(std::chrono::duration_cast<std::chrono::microseconds>(micros));
}

}  // namespace evstore::bench
