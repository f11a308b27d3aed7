#pragma once

// Private to libevstore: failures told in health reports and replica states.

#include <string>
#include <string_view>

#include "evstore/config.hpp"

namespace evstore::detail {

/// `message` as one short line for a report: `url`, with or without its password, replaced
/// by `name` ("the database"), the password redacted however it is encoded, every run of
/// white space one space, and at most 300 characters.
[[nodiscard]] std::string short_reason(std::string message, const database_url& url,
                                       std::string_view name);

}  // namespace evstore::detail
