#pragma once

// Private to libevstore (defined in validation.cpp): the checks of evstore/validation.hpp,
// returning the metadata serialised as the repositories store it. Checking metadata walks it
// whole; serialising it in the same walk saves a second one (nlohmann::json::dump()) for every
// item written.

#include <string>

#include <nlohmann/json.hpp>

#include "evstore/model.hpp"
#include "evstore/validation.hpp"

namespace evstore::detail {

/// Checks `metadata` as evstore::validate_metadata() does and returns it as compact JSON text,
/// byte for byte what nlohmann::json::dump() writes.
/// @throws validation_error as validate_metadata() does.
[[nodiscard]] std::string validated_metadata_text(const nlohmann::json& metadata,
                                                  const validation_limits& limits);

/// Checks `value` as evstore::validate() does and returns its metadata as
/// validated_metadata_text(metadata) does.
/// @throws validation_error as validate() does.
[[nodiscard]] std::string validated_metadata_text(const new_event& value,
                                                  const validation_limits& limits);
/// @copydoc validated_metadata_text(const new_event&, const validation_limits&)
[[nodiscard]] std::string validated_metadata_text(const event& value,
                                                  const validation_limits& limits);
/// @copydoc validated_metadata_text(const new_event&, const validation_limits&)
[[nodiscard]] std::string validated_metadata_text(const new_media& value,
                                                  const validation_limits& limits);

}  // namespace evstore::detail
