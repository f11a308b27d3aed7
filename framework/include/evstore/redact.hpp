#pragma once

/// @file
/// Keeping secrets out of messages. libpq, for one, echoes the malformed part of a connection
/// URI, password included, in its error text (`invalid percent-encoded token: "secret%zz"`),
/// and its connect errors may quote the connection string: every such text passes through
/// here before it is logged, shown or thrown.

#include <string>
#include <string_view>

#include "evstore/export.hpp"

namespace evstore {

/// Percent-encodes every byte outside RFC 3986's unreserved set (letters, digits, -._~) and
/// outside `keep`, with upper-case hex digits.
[[nodiscard]] EVSTORE_API std::string percent_encode(std::string_view text,
                                                     std::string_view keep = {});

/// `text` with every occurrence of `secret` replaced by `***`: raw, percent-encoded with
/// upper- or lower-case hex digits. An empty secret changes nothing.
[[nodiscard]] EVSTORE_API std::string redact(std::string text, std::string_view secret);

}  // namespace evstore
