#pragma once

// Capturing what evstore logs through spdlog, for tests that check log content.

#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace evstore::test {

// A stream buffer that other threads may read while spdlog writes to it: ostream_sink_mt
// serialises the writers, not a reader in the test thread.
class shared_text_buffer : public std::streambuf {
 public:
  std::string text() const {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    std::lock_guard lock(mutex_);
    text_.append(data, static_cast<std::size_t>(size));
    return size;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      std::lock_guard lock(mutex_);
      text_.push_back(traits_type::to_char_type(c));
    }
    return traits_type::not_eof(c);
  }

 private:
  mutable std::mutex mutex_;
  std::string text_;
};

// Routes the default spdlog logger to an ostream_sink_mt for the lifetime of this object.
class captured_log {
 public:
  captured_log() : previous_(spdlog::default_logger()), stream_(&buffer_) {
    auto logger = std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;
  ~captured_log() { spdlog::set_default_logger(previous_); }
  [[nodiscard]] std::string text() const { return buffer_.text(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  shared_text_buffer buffer_;
  std::ostream stream_;
};

}  // namespace evstore::test
