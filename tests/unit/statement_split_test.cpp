// Each dialect splits a migration script into statements without being fooled by a ';' inside
// quotes, comments, dollar quotes or trigger bodies.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <evstore/dialect.hpp>

#include "process.hpp"

namespace {

using statements = std::vector<std::string>;

statements split(const std::string& backend, const std::string& script) {
  const auto* dialect = evstore::test::default_plugins().plugin_for(backend).backend->sql_dialect();
  EXPECT_NE(dialect, nullptr);
  return dialect->split_statements(script);
}

}  // namespace

TEST(postgresql_split, splits_on_semicolons_and_trims_each_statement) {
  EXPECT_EQ(split("postgresql", "  SELECT 1;\n\nSELECT 2 ;SELECT 3"),
            (statements{"SELECT 1", "SELECT 2", "SELECT 3"}));
}

TEST(postgresql_split, ignores_semicolons_in_strings_identifiers_and_comments) {
  const std::string script =
      "INSERT INTO t VALUES ('a;b', 'it''s;');\n"
      "SELECT \"odd;name\" FROM t; -- trailing; comment\n"
      "/* block; /* nested; */ still comment; */ SELECT E'esc\\';aped';";
  EXPECT_EQ(split("postgresql", script),
            (statements{"INSERT INTO t VALUES ('a;b', 'it''s;')", "SELECT \"odd;name\" FROM t",
                        "-- trailing; comment\n/* block; /* nested; */ still comment; */ SELECT "
                        "E'esc\\';aped'"}));
}

TEST(postgresql_split, keeps_dollar_quoted_function_bodies_whole) {
  const std::string body =
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
      "BEGIN NEW.x := 1; RETURN NEW; END;\n$fn$";
  const std::string anonymous = "DO $$ BEGIN PERFORM 1; END $$";
  EXPECT_EQ(split("postgresql", body + ";\n" + anonymous + ";"), (statements{body, anonymous}));
}

TEST(postgresql_split, treats_positional_parameters_as_plain_text) {
  EXPECT_EQ(split("postgresql", "PREPARE p AS SELECT $1; EXECUTE p(1);"),
            (statements{"PREPARE p AS SELECT $1", "EXECUTE p(1)"}));
}

TEST(postgresql_split, drops_statements_that_are_only_comments_or_blank) {
  EXPECT_EQ(split("postgresql", "-- only a comment\n;\n ; /* and */ SELECT 1; -- end\n"),
            (statements{"/* and */ SELECT 1"}));
}

TEST(sqlite_split, keeps_trigger_bodies_whole) {
  const std::string trigger =
      "CREATE TRIGGER t_touch AFTER UPDATE ON t FOR EACH ROW BEGIN\n"
      "  UPDATE t SET n = n + 1 WHERE id = NEW.id;\n"
      "  SELECT 1;\nEND";
  EXPECT_EQ(split("sqlite", "CREATE TABLE t (id INTEGER, n INTEGER);\n" + trigger + ";\n"),
            (statements{"CREATE TABLE t (id INTEGER, n INTEGER)", trigger}));
}

TEST(sqlite_split, ignores_semicolons_in_strings_and_comments_and_drops_blank_ones) {
  EXPECT_EQ(split("sqlite", "INSERT INTO t VALUES ('a;b'); -- c;\n /* d; */ ;\nSELECT 2"),
            (statements{"INSERT INTO t VALUES ('a;b')", "SELECT 2"}));
}
