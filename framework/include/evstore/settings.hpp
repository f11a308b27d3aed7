#pragma once

/// @file
/// The store's settings from configuration: `EVSTORE_*` values (environment, .env files,
/// flags) and evstore's own parameters in the database URL, which win. Every setting, its
/// default and its unit is listed in docs/configuration.md.

#include "evstore/config.hpp"
#include "evstore/export.hpp"
#include "evstore/store.hpp"

namespace evstore {

/// The settings in `cfg` (EVSTORE_POOL_MAX, EVSTORE_RETRY_BUDGET, EVSTORE_LOG_QUERIES, ...)
/// over the defaults of store_options.
/// @throws config_error naming the variable and where it came from.
[[nodiscard]] EVSTORE_API store_options store_options_from(const config& cfg);

/// `options` with evstore's parameters of `url` (pool_max, pool_acquire_timeout, ...) applied,
/// and `url` without them, as the backend sees it (libpq would refuse them).
/// @throws config_error naming the parameter.
EVSTORE_API void apply_url_settings(database_url& url, store_options& options);

}  // namespace evstore
