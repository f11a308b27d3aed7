#include <gtest/gtest.h>

#include <evstore/redact.hpp>

TEST(redact, replaces_a_secret_raw_and_percent_encoded_in_either_case) {
  const std::string secret = "p@ss:w/rd%Z";
  const std::string text =
      "raw p@ss:w/rd%Z, upper p%40ss%3Aw%2Frd%25Z, lower p%40ss%3aw%2frd%25Z, end";
  EXPECT_EQ(evstore::redact(text, secret), "raw ***, upper ***, lower ***, end");
}

TEST(redact, keeps_the_secrets_own_letters_case_sensitive) {
  EXPECT_EQ(evstore::redact("Secret secret", "Secret"), "*** secret");
}

TEST(redact, leaves_text_alone_for_an_empty_secret) {
  EXPECT_EQ(evstore::redact("nothing to hide", ""), "nothing to hide");
}

TEST(redact, percent_encodes_everything_but_unreserved_characters) {
  EXPECT_EQ(evstore::percent_encode("aZ0-._~ @:/%"), "aZ0-._~%20%40%3A%2F%25");
}
