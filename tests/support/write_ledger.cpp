#include "write_ledger.hpp"

#include "concurrent_writers.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <typeinfo>

#include <fmt/format.h>
#include <soci/soci.h>

#include <evstore/error.hpp>

namespace evstore::test {
namespace {

constexpr int media_per_write = 2;

std::string type_name(const std::type_info& type) {
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

}  // namespace

write_ledger::write_ledger(store& target, int threads, std::chrono::milliseconds pause) {
  for (int t = 0; t < threads; ++t) {
    threads_.emplace_back([this, &target, t, pause] { write(target, t, pause); });
  }
}

write_ledger::~write_ledger() {
  stop();
}

void write_ledger::write(store& target, int thread, std::chrono::milliseconds pause) {
  const auto start = timestamp(std::chrono::floor<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch()));
  for (std::int64_t n = 0; !stopping_.load(); ++n) {
    write_record record;
    record.title = fmt::format("ledger {} {}", thread, n);
    const auto began = clock::now();
    try {
      target.transaction([&](transaction& tx) {
        const auto e = tx.events().create({.title = record.title, .start_time = start});
        (void)tx.media().add_many(writer_media(e.id, "ledger", thread, n, media_per_write, start));
      });
      ++acknowledged_;
    } catch (const commit_unknown& e) {
      record.outcome = write_outcome::unknown;
      record.error_type = type_name(typeid(e));
    } catch (const error& e) {
      record.outcome = write_outcome::failed;
      record.error_type = type_name(typeid(e));
    } catch (const std::exception& e) {
      record.outcome = write_outcome::failed;
      record.error_type = "untyped: " + type_name(typeid(e)) + ": " + e.what();
    }
    record.finished = clock::now();
    record.took = record.finished - began;
    const bool failed = record.outcome != write_outcome::ok;
    {
      const std::lock_guard lock(mutex_);
      records_.push_back(std::move(record));
    }
    if (failed) {
      std::this_thread::sleep_for(pause);
    }
  }
}

void write_ledger::stop() {
  stopping_ = true;
  for (auto& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

std::optional<write_ledger::clock::time_point> write_ledger::first_ok_after(
    clock::time_point since, std::chrono::milliseconds timeout) const {
  const auto until = clock::now() + timeout;
  for (;;) {
    {
      const std::lock_guard lock(mutex_);
      std::optional<clock::time_point> first;
      for (const auto& r : records_) {
        if (r.outcome == write_outcome::ok && r.finished > since &&
            (!first || r.finished < *first)) {
          first = r.finished;
        }
      }
      if (first) {
        return first;
      }
    }
    if (clock::now() >= until) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool write_ledger::wait_for_ok(std::int64_t count, std::chrono::milliseconds timeout) const {
  const auto until = clock::now() + timeout;
  while (acknowledged_.load() < count) {
    if (clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::vector<write_record> write_ledger::records() const {
  const std::lock_guard lock(mutex_);
  return records_;
}

std::vector<std::string> check_ledger(connection& conn, const std::vector<write_record>& records) {
  // title -> (events with that title, media of the first)
  std::map<std::string, std::pair<int, int>> stored;
  {
    std::string title;
    int media = 0;
    soci::statement rows =
        (conn.session().prepare << "SELECT e.title, (SELECT count(*) FROM media m WHERE "
                                   "m.event_id = e.id) FROM events e WHERE e.title LIKE 'ledger %'",
         soci::into(title), soci::into(media));
    rows.execute();
    while (rows.fetch()) {
      auto& [events, media_count] = stored[title];
      if (++events == 1) {
        media_count = media;
      }
    }
  }
  std::vector<std::string> problems;
  for (const auto& r : records) {
    const auto found = stored.find(r.title);
    const bool present = found != stored.end();
    if (present && found->second.first > 1) {
      problems.push_back(fmt::format("{}: stored {} times", r.title, found->second.first));
    }
    if (present && found->second.second != media_per_write) {
      problems.push_back(fmt::format("{}: stored with {} media, not {} (not all-or-nothing)",
                                     r.title, found->second.second, media_per_write));
    }
    if (r.outcome == write_outcome::ok && !present) {
      problems.push_back(fmt::format("{}: acknowledged but not stored", r.title));
    }
    if (r.outcome == write_outcome::failed && present) {
      problems.push_back(fmt::format("{}: failed ({}) but stored", r.title, r.error_type));
    }
    if (r.outcome != write_outcome::ok && !r.error_type.starts_with("evstore::")) {
      problems.push_back(
          fmt::format("{}: failed without an evstore error: {}", r.title, r.error_type));
    }
    if (present) {
      stored.erase(found);
    }
  }
  for (const auto& [title, counts] : stored) {
    problems.push_back(fmt::format("{}: stored, but no writer asked for it", title));
  }
  return problems;
}

std::string summary(const std::vector<write_record>& records) {
  std::map<write_outcome, int> counts;
  std::map<std::string, int> types;
  for (const auto& r : records) {
    ++counts[r.outcome];
    if (r.outcome != write_outcome::ok) {
      ++types[r.error_type];
    }
  }
  std::string kinds;
  for (const auto& [type, count] : types) {
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", type, count);
  }
  return fmt::format("ok {}, failed {}, unknown {} ({})", counts[write_outcome::ok],
                     counts[write_outcome::failed], counts[write_outcome::unknown], kinds);
}

}  // namespace evstore::test
