#pragma once

// The PostgreSQL backend, through soci_postgresql and libpq.

#include <evstore/backend.hpp>

namespace evstore::postgresql {

class postgresql_backend final : public backend {
 public:
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::vector<std::string> schemes() const override;
  [[nodiscard]] std::unique_ptr<soci::session> open(const database_url& url,
                                                    const connect_options& options) const override;
  [[nodiscard]] std::string server_version(soci::session& session) const override;
  [[noreturn]] void rethrow_translated(std::exception_ptr failure,
                                       std::string_view context) const override;
};

/// The libpq connection string for `url`: quoted keyword=value pairs, never a URI, since
/// SOCI 4.0.3 mangles URIs (PITFALLS.md). The URL's parameters win over `options`.
[[nodiscard]] std::string conninfo(const database_url& url, const connect_options& options);

/// The one mapping of SQLSTATE codes to evstore errors.
[[noreturn]] void throw_for_sqlstate(const std::string& sqlstate, const std::string& message);

}  // namespace evstore::postgresql
