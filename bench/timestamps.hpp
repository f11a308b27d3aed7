#pragma once

// PostgreSQL's text form of timestamptz with the session in UTC ("2026-01-01 10:00:00.5+00"),
// written and read by the raw libpq and plain SOCI contenders: what hand-written text-mode
// code does, exact to the microsecond.

#include <string>
#include <string_view>

#include <evstore/model.hpp>

namespace evstore::bench {

/// `t` as "YYYY-MM-DD HH:MM:SS.ffffff+00".
[[nodiscard]] std::string to_postgresql_text(timestamp t);

/// Reads PostgreSQL's output for a timestamptz in a UTC session: "YYYY-MM-DD HH:MM:SS", an
/// optional fraction of 1 to 6 digits, then "+00".
/// @throws std::runtime_error for anything else.
[[nodiscard]] timestamp parse_postgresql_timestamp(std::string_view text);

}  // namespace evstore::bench
