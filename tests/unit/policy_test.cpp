// The policy format and its precedence (dataplane/policy/, docs/POLICY.md): a file read by
// the schema, every fault named, and an object's settings by the documented precedence.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "policy/policy_check.h"
#include "policy/policy_file.h"
#include "temp_dir.h"
#include "util/glob.h"

namespace s3hc::policy {
namespace {

PolicyMatcher valid(const std::string& text) {
  auto compiled = parse_policy(text);
  EXPECT_TRUE(compiled.errors.empty()) << compiled.errors.front();
  return std::move(*compiled.matcher);
}

std::vector<std::string> errors_of(const std::string& text) {
  const auto compiled = parse_policy(text);
  EXPECT_FALSE(compiled.matcher);
  return compiled.errors;
}

std::string comments_matching(const PolicyMatcher& policy, std::string_view bucket,
                              std::string_view key) {
  std::string names;
  for (const auto* rule : policy.matching(bucket, key)) names += rule->comment() + " ";
  return names;
}

TEST(GlobTest, StarsQuestionMarksAndLiterals) {
  EXPECT_TRUE(util::glob_matches("*.parquet", "train/part-1.parquet"));
  EXPECT_TRUE(util::glob_matches("logs/*/2026-*", "logs/app/2026-12-02"));
  EXPECT_TRUE(util::glob_matches("a?c", "abc"));
  EXPECT_TRUE(util::glob_matches("*", ""));
  EXPECT_TRUE(util::glob_matches("**a", "bba"));
  EXPECT_FALSE(util::glob_matches("a?c", "ac"));
  EXPECT_FALSE(util::glob_matches("*.parquet", "x.parquet.tmp"));
  EXPECT_FALSE(util::glob_matches("", "x"));
  // Many stars over a long key that almost matches: no exponential backtracking.
  EXPECT_FALSE(util::glob_matches("*a*a*a*a*a*a*a*a*b", std::string(10000, 'a')));
  EXPECT_EQ(util::glob_literal_length("logs/*/2026-?"), 11u);
}

TEST(PolicyFileTest, ReadsYamlByTheSchema) {
  const auto policy = valid(R"(
version: 7
defaults: {get_ttl_ms: 60000}
rules:
  - bucket: ml-datasets
    prefix: train/
    settings: {get_ttl_ms: 86400000, ram_tier: false, max_object_bytes: 1073741824}
    comment: training data never changes
  - bucket: "123"
    settings: {read_caching: false}
)");
  EXPECT_EQ(policy.snapshot().version(), 7u);
  EXPECT_EQ(policy.snapshot().defaults().get_ttl_ms(), 60000);
  const auto& train = policy.snapshot().rules(0);
  EXPECT_EQ(train.settings().get_ttl_ms(), 86400000);
  EXPECT_FALSE(train.settings().ram_tier());
  EXPECT_TRUE(train.settings().has_ram_tier());
  EXPECT_FALSE(train.settings().has_write_through());
  EXPECT_EQ(train.settings().max_object_bytes(), 1u << 30);
  EXPECT_EQ(policy.snapshot().rules(1).bucket(), "123");
}

TEST(PolicyFileTest, ReadsJsonToo) {
  const auto policy = valid(R"({"version": 2, "rules": [{"glob": "*.tmp",
                                "settings": {"read_caching": false}}]})");
  EXPECT_EQ(policy.snapshot().rules(0).glob(), "*.tmp");
}

// Protobuf's JSON mapping quotes 64-bit integers: what s3hc-ctl policy get --json and the
// control plane's pushed file hold must read back.
TEST(PolicyFileTest, ReadsQuoted64BitIntegersAsProtobufsJsonWritesThem) {
  const auto policy = valid(R"({"version": "7", "defaults": {"get_ttl_ms": "30000"},
                                "rules": [{"bucket": "b", "settings": {"max_object_bytes": "42"}}]})");
  EXPECT_EQ(policy.snapshot().version(), 7u);
  EXPECT_EQ(policy.snapshot().defaults().get_ttl_ms(), 30000);
  EXPECT_EQ(policy.snapshot().rules(0).settings().max_object_bytes(), 42u);
  EXPECT_EQ(errors_of(R"({"version": "seven"})").at(0),
            "version: expected a non-negative integer, not 'seven'");
}

TEST(PolicyFileTest, EveryFaultIsNamedWithItsPath) {
  const auto errors = errors_of(R"(
rules:
  - bucket: b
    settings: {get_ttl_ms: soon, read_cachng: false}
  - prefix: 5
    settings: {max_object_bytes: -1, write_through: "true"}
)");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0], "rules[0].settings.get_ttl_ms: expected an integer, not 'soon'");
  EXPECT_EQ(errors[1], "rules[0].settings.read_cachng: unknown key");
  // (`prefix: 5` is the string "5": any scalar spells a string.)
  EXPECT_EQ(errors[2],
            "rules[1].settings.max_object_bytes: expected a non-negative integer, not '-1'");
  EXPECT_EQ(errors[3],
            "rules[1].settings.write_through: expected true or false, not a quoted string");
}

TEST(PolicyFileTest, InvalidRulesAreRefused) {
  const auto errors = errors_of(R"(
defaults: {head_ttl_ms: -1}
rules:
  - {bucket: "a/b"}
  - {bucket: b, prefix: x/, glob: "*.y"}
  - {bucket: c, prefix: p/}
  - {bucket: c, prefix: p/, settings: {get_ttl_ms: -5}}
)");
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], "defaults.head_ttl_ms: must not be negative");
  EXPECT_EQ(errors[1], "rules[0].bucket: a bucket is named exactly (no '/', '*' or '?')");
  EXPECT_EQ(errors[2], "rules[1]: a prefix or a glob, not both");
  EXPECT_EQ(errors[3], "rules[3]: the same objects as an earlier rule (merge the two)");
  EXPECT_EQ(errors[4], "rules[3].settings.get_ttl_ms: must not be negative");
}

TEST(PolicyFileTest, NotYamlAndEmpty) {
  EXPECT_EQ(errors_of("rules: [unclosed").size(), 1u);
  EXPECT_EQ(errors_of("- a list").front(), "document: expected a mapping of keys");
  EXPECT_EQ(valid("").snapshot().rules_size(), 0);  // an empty policy: the configuration
}

// The precedence table of docs/POLICY.md, one row per line of `rules`.
TEST(PolicyMatcherTest, MostSpecificFirst) {
  const auto policy = valid(R"(
rules:
  - {comment: any-glob, glob: "*.csv"}
  - {comment: any, prefix: ""}
  - {comment: bucket, bucket: data}
  - {comment: bucket-glob-short, bucket: data, glob: "raw/*"}
  - {comment: bucket-prefix, bucket: data, prefix: raw/}
  - {comment: bucket-glob-long, bucket: data, glob: "raw/2026/*.csv"}
  - {comment: any-prefix-long, prefix: raw/2026/x}
  - {comment: other, bucket: other}
)");
  // A bucket's rule over any rule for every bucket, then more literal characters, then a
  // prefix over a glob of as many.
  EXPECT_EQ(comments_matching(policy, "data", "raw/2026/a.csv"),
            "bucket-glob-long bucket-prefix bucket-glob-short bucket any-glob any ");
  EXPECT_EQ(comments_matching(policy, "data", "raw/2026/x.csv"),
            "bucket-glob-long bucket-prefix bucket-glob-short bucket any-prefix-long any-glob "
            "any ");
  EXPECT_EQ(comments_matching(policy, "elsewhere", "raw/2026/x.csv"),
            "any-prefix-long any-glob any ");
  EXPECT_EQ(comments_matching(policy, "other", "k"), "other any ");
}

TEST(PolicyMatcherTest, TiesGoToTheRuleListedFirst) {
  const auto policy = valid(R"(
rules:
  - {comment: first, bucket: b, glob: "a*"}
  - {comment: second, bucket: b, glob: "*a"}
)");
  EXPECT_EQ(comments_matching(policy, "b", "aa"), "first second ");
}

TEST(PolicyMatcherTest, SettingsOverlayFieldByField) {
  const auto policy = valid(R"(
defaults: {get_ttl_ms: 1000, write_through: true}
rules:
  - {bucket: data, settings: {get_ttl_ms: 2000, ram_tier: false}}
  - {bucket: data, prefix: hot/, settings: {ram_tier: true}}
)");
  const auto hot = policy.settings_for("data", "hot/x");
  EXPECT_EQ(hot.get_ttl_ms(), 2000);       // from the bucket's rule
  EXPECT_TRUE(hot.ram_tier());             // the prefix's rule overrides the bucket's
  EXPECT_TRUE(hot.write_through());        // from the defaults
  EXPECT_FALSE(hot.has_read_caching());    // set by none: the configuration's
  const auto cold = policy.settings_for("data", "cold/x");
  EXPECT_FALSE(cold.ram_tier());
  EXPECT_EQ(policy.settings_for("logs", "x").get_ttl_ms(), 1000);
}

TEST(PolicyCheckTest, ExplainsAValidFileAndRefusesAnInvalidOne) {
  s3hc::testing::TempDir dir{"policy-check"};
  const auto good = (dir.path() / "good.yaml").string();
  std::ofstream(good) << "version: 3\ndefaults: {get_ttl_ms: 5}\nrules:\n"
                         "  - {bucket: b, settings: {read_caching: false}, comment: off}\n"
                         "  - {bucket: b, prefix: k/, settings: {get_ttl_ms: 9}}\n";
  std::ostringstream out, err;
  EXPECT_EQ(check_policy_file(good, out, err), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_NE(out.str().find("valid, version 3, 2 rule(s)"), std::string::npos) << out.str();
  const auto first = out.str().find("1. bucket b, keys starting \"k/\": get_ttl_ms=9");
  const auto second = out.str().find("2. bucket b: read_caching=false  # off");
  EXPECT_NE(first, std::string::npos) << out.str();
  EXPECT_NE(second, std::string::npos) << out.str();
  EXPECT_NE(out.str().find("defaults: get_ttl_ms=5"), std::string::npos);

  const auto bad = (dir.path() / "bad.yaml").string();
  std::ofstream(bad) << "rules: [{bucket: b, settings: {get_ttl: 1}}]\n";
  std::ostringstream out2, err2;
  EXPECT_EQ(check_policy_file(bad, out2, err2), 1);
  EXPECT_EQ(out2.str(), "");
  EXPECT_NE(err2.str().find("rules[0].settings.get_ttl: unknown key"), std::string::npos);
  std::ostringstream out3, err3;
  EXPECT_EQ(check_policy_file((dir.path() / "missing").string(), out3, err3), 1);
}

}  // namespace
}  // namespace s3hc::policy
