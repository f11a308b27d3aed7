#include "evstore/replicas.hpp"

#include <charconv>

#include <spdlog/fmt/fmt.h>

#include "evstore/detail/connection_source.hpp"
#include "evstore/error.hpp"
#include "replica_set.hpp"

namespace evstore {

namespace {

constexpr std::string_view token_prefix = "rw1-";
constexpr std::size_t token_digits = 16;

}  // namespace

const char* to_string(replica_state state) noexcept {
  switch (state) {
    case replica_state::unknown:
      return "unknown";
    case replica_state::up:
      return "up";
    case replica_state::lagging:
      return "lagging";
    case replica_state::down:
      return "down";
  }
  return "unknown";
}

causal_scope::causal_scope(source_factory sources,
                           std::shared_ptr<detail::causal_position> position)
    : sources_(std::move(sources)), position_(std::move(position)) {}

causal_scope::causal_scope(const causal_scope&) = default;
causal_scope& causal_scope::operator=(const causal_scope&) = default;
causal_scope::~causal_scope() = default;

event_repository causal_scope::events() {
  return event_repository(sources_());
}

media_repository causal_scope::media() {
  return media_repository(sources_());
}

std::string causal_scope::token() const {
  return fmt::format("{}{:016x}", token_prefix, position_->get());
}

void causal_scope::observe(std::string_view token) {
  std::uint64_t position = 0;
  const auto digits = token.substr(std::min(token.size(), token_prefix.size()));
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), position, 16);
  if (!token.starts_with(token_prefix) || digits.size() != token_digits || ec != std::errc() ||
      end != digits.data() + digits.size()) {
    throw validation_error(
        "token", fmt::format("a read-your-writes token is \"{}\" and {} hexadecimal digits, as "
                             "causal_scope::token() makes it; got {} characters",
                             token_prefix, token_digits, token.size()));
  }
  position_->advance(position);
}

}  // namespace evstore
