#pragma once

// The SQLite backend: embedded databases in a file or in memory, through soci_sqlite3.

#include <evstore/backend.hpp>

namespace evstore::sqlite {

class sqlite_backend final : public backend {
 public:
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::vector<std::string> schemes() const override;
  [[nodiscard]] std::unique_ptr<soci::session> open(const database_url& url,
                                                    const connect_options& options) const override;
  [[nodiscard]] std::string server_version(soci::session& session) const override;
  [[noreturn]] void rethrow_translated(std::exception_ptr failure,
                                       std::string_view context) const override;
};

/// The name of a result code's primary code ("SQLITE_BUSY"), kept as an error's native code.
[[nodiscard]] std::string result_code_name(int code);

/// The one mapping of SQLite result codes to evstore errors. @param code a primary or
/// extended result code.
[[noreturn]] void throw_for_result_code(int code, const std::string& message);

}  // namespace evstore::sqlite
