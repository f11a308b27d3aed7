// Native statements on any backend that has them: parameters and columns of every kind,
// placeholders, row counts, failures, and a session left clean whatever happens.

#include "evstore/conformance/native_statement_suite.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <evstore/dialect.hpp>
#include <evstore/error.hpp>

namespace evstore::conformance {
namespace {

native_value text(std::string_view value) {
  return {.type = native_value::kind::text, .text = value};
}

native_value integer(std::int64_t value) {
  return {.type = native_value::kind::integer, .integer = value};
}

native_value real(double value) {
  return {.type = native_value::kind::real, .real = value};
}

native_value null_text() {
  return {.type = native_value::kind::text, .null = true};
}

// Runs `statement` with `values`, collecting each row's first column as text ("NULL" for a
// null) and returning the statement's count.
std::int64_t run(native_statement& statement, const std::vector<native_value>& values,
                 std::vector<std::string>* firsts = nullptr) {
  return statement.execute(values, [&](const native_row& row) {
    if (firsts != nullptr) {
      firsts->emplace_back(row.null(0) ? "NULL" : std::string(row.text(0)));
    }
  });
}

}  // namespace

void native_statement_conformance::SetUp() {
  database_ = GetParam().fresh_database();
  const auto url = parse_database_url(database_->url());
  native_ = dynamic_cast<const native_statements*>(
      plugins_of(GetParam()).plugin_for(url.scheme).backend.get());
  if (native_ == nullptr) {
    GTEST_SKIP() << "not applicable: backend " << GetParam().name
                 << " has no native statements (the core drives it through SOCI)";
  }
  connection_.emplace(
      open_connection(plugins_of(GetParam()), url, options_for(GetParam(), *database_)));
  connection_->execute("CREATE TABLE probe (k BIGINT PRIMARY KEY, t TEXT)");
}

void native_statement_conformance::TearDown() {
  connection_.reset();
  database_.reset();
}

TEST_P(native_statement_conformance, parameters_and_columns_of_every_kind_round_trip_exactly) {
  auto statement =
      native_->prepare(connection_->session(),
                       "SELECT CAST(:p0 AS TEXT), CAST(:p1 AS BIGINT), CAST(:p2 AS BIGINT), "
                       "CAST(:p3 AS DOUBLE PRECISION), CAST(:p4 AS TEXT)",
                       5, true);
  const std::string awkward = "it's \"quoted\", \\ back-slashed, tab\there, \xc3\xa9t\xc3\xa9";
  const std::vector values = {text(awkward), integer(std::numeric_limits<std::int64_t>::max()),
                              integer(std::numeric_limits<std::int64_t>::min()), real(0.1),
                              null_text()};
  int rows = 0;
  statement->execute(values, [&](const native_row& row) {
    ++rows;
    EXPECT_EQ(row.text(0), awkward);
    EXPECT_EQ(row.integer(1), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(row.integer(2), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(row.real(3), 0.1);
    EXPECT_FALSE(row.null(3));
    EXPECT_TRUE(row.null(4));
  });
  EXPECT_EQ(rows, 1);
}

TEST_P(native_statement_conformance, an_integer_column_read_as_text_gives_its_digits) {
  auto statement =
      native_->prepare(connection_->session(), "SELECT CAST(:p0 AS BIGINT), 7", 1, true);
  int rows = 0;
  const std::vector values = {integer(std::numeric_limits<std::int64_t>::min())};
  statement->execute(values, [&](const native_row& row) {
    ++rows;
    EXPECT_EQ(row.text(0), "-9223372036854775808");
    EXPECT_EQ(row.text(1), "7");
    EXPECT_EQ(row.real(1), 7.0);
  });
  EXPECT_EQ(rows, 1);
}

TEST_P(native_statement_conformance, a_text_column_reads_as_a_number_only_when_it_is_one) {
  auto statement =
      native_->prepare(connection_->session(),
                       "SELECT CAST(:p0 AS TEXT), CAST(:p1 AS TEXT), CAST(:p2 AS TEXT)", 3, true);
  const std::vector values = {text("-42"), text("2.5"), text("12abc")};
  int rows = 0;
  statement->execute(values, [&](const native_row& row) {
    ++rows;
    EXPECT_EQ(row.integer(0), -42);
    EXPECT_EQ(row.real(1), 2.5);
    EXPECT_THROW((void)row.integer(2), error);
    EXPECT_THROW((void)row.real(2), error);
  });
  EXPECT_EQ(rows, 1);
}

TEST_P(native_statement_conformance,
       the_dialects_timestamp_and_uuid_columns_read_back_exactly_what_was_bound) {
  const auto& sql = *connection_->backend().sql_dialect();
  auto statement =
      native_->prepare(connection_->session(),
                       "SELECT " + sql.micros_from_timestamp(sql.timestamp_from_micros(":p0")) +
                           ", " + sql.text_from_uuid(sql.uuid_from_text(":p1")),
                       2, true);
  // Before and after the Unix epoch and PostgreSQL's (2000), and the ends of years 1–9999.
  const std::vector<std::int64_t> instants = {0,
                                              -1,
                                              1,
                                              946'684'800'000'000,
                                              946'684'799'999'999,
                                              1'764'145'486'123'457,
                                              -62'135'596'800'000'000,
                                              253'402'300'799'999'999};
  const std::vector<std::string> ids = {"00000000-0000-0000-0000-000000000000",
                                        "ffffffff-ffff-ffff-ffff-ffffffffffff",
                                        "0193f3a2-7b4c-7d5e-8f60-a1b2c3d4e5f6"};
  for (std::size_t i = 0; i < instants.size(); ++i) {
    const auto& id = ids[i % ids.size()];
    int rows = 0;
    const std::vector values = {integer(instants[i]), text(id)};
    statement->execute(values, [&](const native_row& row) {
      ++rows;
      EXPECT_EQ(row.integer(0), instants[i]);
      EXPECT_EQ(row.text(1), id);
    });
    EXPECT_EQ(rows, 1) << instants[i];
  }
}

TEST_P(native_statement_conformance,
       a_placeholder_inside_a_quoted_literal_is_text_not_a_parameter) {
  auto statement = native_->prepare(connection_->session(),
                                    "SELECT ':p0 and '':p1''' || CAST(:p0 AS TEXT)", 1, true);
  std::vector<std::string> firsts;
  run(*statement, {text("!")}, &firsts);
  EXPECT_EQ(firsts, std::vector<std::string>{":p0 and ':p1'!"});
}

TEST_P(native_statement_conformance, a_placeholder_used_twice_takes_one_value) {
  auto statement = native_->prepare(
      connection_->session(), "SELECT CAST(:p0 AS TEXT) || '-' || CAST(:p0 AS TEXT)", 1, true);
  std::vector<std::string> firsts;
  run(*statement, {text("ab")}, &firsts);
  EXPECT_EQ(firsts, std::vector<std::string>{"ab-ab"});
}

TEST_P(native_statement_conformance, a_kept_statement_runs_again_with_new_values_and_counts_rows) {
  auto insert = native_->prepare(connection_->session(),
                                 "INSERT INTO probe (k, t) VALUES (:p0, :p1)", 2, true);
  for (std::int64_t k = 1; k <= 3; ++k) {
    EXPECT_EQ(run(*insert, {integer(k), text(std::to_string(k * 10))}), 1);
  }
  auto update =
      native_->prepare(connection_->session(), "UPDATE probe SET t = :p0 WHERE k >= :p1", 2, true);
  EXPECT_EQ(run(*update, {text("x"), integer(2)}), 2);
  auto select = native_->prepare(connection_->session(),
                                 "SELECT t FROM probe WHERE k >= :p0 ORDER BY k", 1, false);
  std::vector<std::string> firsts;
  EXPECT_EQ(run(*select, {integer(1)}, &firsts), 3);
  EXPECT_EQ(firsts, (std::vector<std::string>{"10", "x", "x"}));
}

TEST_P(native_statement_conformance, a_failure_is_a_typed_error_and_the_statement_still_works) {
  auto insert = native_->prepare(connection_->session(),
                                 "INSERT INTO probe (k, t) VALUES (:p0, :p1)", 2, true);
  EXPECT_EQ(run(*insert, {integer(1), text("a")}), 1);
  EXPECT_THROW(run(*insert, {integer(1), text("again")}), constraint_violation);
  EXPECT_EQ(run(*insert, {integer(2), text("b")}), 1);
}

TEST_P(native_statement_conformance, a_syntax_error_is_a_typed_error_when_prepared_or_run) {
  try {
    auto broken = native_->prepare(connection_->session(), "SELEKT 1", 0, true);
    run(*broken, {});
    FAIL() << "SELEKT 1 ran";
  } catch (const error& e) {
    EXPECT_EQ(e.category(), error_category::database);
    EXPECT_EQ(e.backend(), GetParam().name);
  }
}

TEST_P(native_statement_conformance, a_row_callback_that_throws_leaves_the_session_usable) {
  connection_->execute("INSERT INTO probe (k, t) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  auto select = native_->prepare(connection_->session(), "SELECT t FROM probe ORDER BY k", 0, true);
  EXPECT_THROW(select->execute({}, [](const native_row&) { throw std::runtime_error("stop"); }),
               std::runtime_error);
  // A statement left mid-result would refuse this (SQLite: the table is locked).
  connection_->execute("DROP TABLE probe");
  connection_->execute("CREATE TABLE probe (k BIGINT PRIMARY KEY, t TEXT)");
  EXPECT_EQ(run(*native_->prepare(connection_->session(), "SELECT t FROM probe", 0, true), {}), 0);
}

}  // namespace evstore::conformance
