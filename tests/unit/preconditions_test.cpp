#include <gtest/gtest.h>

#include "s3/preconditions.h"

namespace s3hc::s3 {
namespace {

using Outcome = PreconditionOutcome;

constexpr std::string_view kEtag = "\"9bb58f26192e4ba00f01e2e7b136bbd8\"";
constexpr std::string_view kOtherEtag = "\"0123456789abcdef0123456789abcdef\"";
constexpr std::string_view kLastModified = "Wed, 12 Oct 2022 17:50:00 GMT";
constexpr std::string_view kBefore = "Wed, 12 Oct 2022 17:49:59 GMT";
constexpr std::string_view kAfter = "Wed, 12 Oct 2022 17:50:01 GMT";

// The request's headers against the object (kEtag, kLastModified).
Outcome evaluate(PreconditionInput input) {
  input.etag = kEtag;
  input.last_modified = kLastModified;
  return evaluate_preconditions(input);
}

TEST(PreconditionsTest, NoConditionsProceed) { EXPECT_EQ(evaluate({}), Outcome::kProceed); }

TEST(PreconditionsTest, IfMatchComparesStrongly) {
  EXPECT_EQ(evaluate({.if_match = kEtag}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = "*"}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = " * "}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = "\"a\", \"9bb58f26192e4ba00f01e2e7b136bbd8\""}),
            Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = "\"a\",\"9bb58f26192e4ba00f01e2e7b136bbd8\" ,"}),
            Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = kOtherEtag}), Outcome::kPreconditionFailed);
  EXPECT_EQ(evaluate({.if_match = "W/\"9bb58f26192e4ba00f01e2e7b136bbd8\""}),
            Outcome::kPreconditionFailed);
  EXPECT_EQ(evaluate({.if_match = "\"9bb58f26192e4ba00f01e2e7b136bbd\""}),
            Outcome::kPreconditionFailed);
}

TEST(PreconditionsTest, UnquotedEntityTagsMatchAsS3AcceptsThem) {
  EXPECT_EQ(evaluate({.if_match = "9bb58f26192e4ba00f01e2e7b136bbd8"}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = "abc, 9bb58f26192e4ba00f01e2e7b136bbd8"}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_none_match = "9bb58f26192e4ba00f01e2e7b136bbd8"}), Outcome::kNotModified);
}

TEST(PreconditionsTest, QuotedTagsMayContainCommas) {
  EXPECT_EQ(evaluate({.if_match = "\"a,9bb58f26192e4ba00f01e2e7b136bbd8\""}),
            Outcome::kPreconditionFailed);
}

TEST(PreconditionsTest, IfUnmodifiedSince) {
  EXPECT_EQ(evaluate({.if_unmodified_since = kLastModified}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_unmodified_since = kAfter}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_unmodified_since = kBefore}), Outcome::kPreconditionFailed);
  EXPECT_EQ(evaluate({.if_unmodified_since = "yesterday"}), Outcome::kProceed);  // ignored
}

TEST(PreconditionsTest, IfMatchTrueOverridesIfUnmodifiedSinceFalse) {
  EXPECT_EQ(evaluate({.if_match = kEtag, .if_unmodified_since = kBefore}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_match = kOtherEtag, .if_unmodified_since = kAfter}),
            Outcome::kPreconditionFailed);
}

TEST(PreconditionsTest, IfNoneMatchComparesWeakly) {
  EXPECT_EQ(evaluate({.if_none_match = kEtag}), Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_none_match = "W/\"9bb58f26192e4ba00f01e2e7b136bbd8\""}),
            Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_none_match = "\"x\", W/\"9bb58f26192e4ba00f01e2e7b136bbd8\""}),
            Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_none_match = "*"}), Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_none_match = kOtherEtag}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_none_match = "\"9bb58f26192e4ba00f01e2e7b136bbd8"}),
            Outcome::kProceed);  // unterminated: matches nothing
}

TEST(PreconditionsTest, IfModifiedSince) {
  EXPECT_EQ(evaluate({.if_modified_since = kLastModified}), Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_modified_since = kAfter}), Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_modified_since = kBefore}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_modified_since = "Wed, 12 Oct 2022 17:50:00 UTC"}),
            Outcome::kProceed);  // not an HTTP date: ignored
  EXPECT_EQ(evaluate({.if_modified_since = "Wednesday, 12-Oct-22 17:50:00 GMT"}),
            Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_modified_since = "Wed Oct 12 17:49:59 2022"}), Outcome::kProceed);
}

TEST(PreconditionsTest, IfNoneMatchDecidesAloneOverIfModifiedSince) {
  // S3's documented case: If-None-Match false (the tag matches), If-Modified-Since true.
  EXPECT_EQ(evaluate({.if_none_match = kEtag, .if_modified_since = kBefore}),
            Outcome::kNotModified);
  // RFC 7232 §6: a present If-None-Match makes If-Modified-Since irrelevant.
  EXPECT_EQ(evaluate({.if_none_match = kOtherEtag, .if_modified_since = kAfter}),
            Outcome::kProceed);
}

TEST(PreconditionsTest, FailedPreconditionComesBeforeNotModified) {
  EXPECT_EQ(evaluate({.if_match = kOtherEtag, .if_none_match = kEtag}),
            Outcome::kPreconditionFailed);
  EXPECT_EQ(evaluate({.if_none_match = kEtag, .if_unmodified_since = kBefore}),
            Outcome::kPreconditionFailed);
  EXPECT_EQ(evaluate({.if_match = kEtag, .if_none_match = kEtag}), Outcome::kNotModified);
}

TEST(PreconditionsTest, IfRangeWithAnEntityTag) {
  EXPECT_EQ(evaluate({.if_range = kEtag}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_range = "9bb58f26192e4ba00f01e2e7b136bbd8"}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_range = kOtherEtag}), Outcome::kProceedIgnoringRange);
  EXPECT_EQ(evaluate({.if_range = "W/\"9bb58f26192e4ba00f01e2e7b136bbd8\""}),
            Outcome::kProceedIgnoringRange);  // weak tags never validate a range
  EXPECT_EQ(evaluate({.if_range = "\"9bb58f26192e4ba00f01e2e7b136bbd8\", \"x\""}),
            Outcome::kProceedIgnoringRange);  // one validator only
}

TEST(PreconditionsTest, IfRangeWithADate) {
  EXPECT_EQ(evaluate({.if_range = kLastModified}), Outcome::kProceed);
  EXPECT_EQ(evaluate({.if_range = kAfter}), Outcome::kProceedIgnoringRange);  // exact only
  EXPECT_EQ(evaluate({.if_range = kBefore}), Outcome::kProceedIgnoringRange);
  EXPECT_EQ(evaluate({.if_range = "Wed, 12 Oct 2022 17:50:00"}), Outcome::kProceedIgnoringRange);
}

TEST(PreconditionsTest, IfRangeComesAfterTheOtherConditions) {
  EXPECT_EQ(evaluate({.if_match = kOtherEtag, .if_range = kOtherEtag}),
            Outcome::kPreconditionFailed);
  EXPECT_EQ(evaluate({.if_none_match = kEtag, .if_range = kOtherEtag}), Outcome::kNotModified);
  EXPECT_EQ(evaluate({.if_match = kEtag, .if_range = kOtherEtag}), Outcome::kProceedIgnoringRange);
}

TEST(PreconditionsTest, UnparsableLastModifiedDisablesTheDateConditions) {
  const auto without_date = [](PreconditionInput input) {
    input.etag = kEtag;
    input.last_modified = "not a date";
    return evaluate_preconditions(input);
  };
  EXPECT_EQ(without_date({.if_unmodified_since = kBefore}), Outcome::kProceed);
  EXPECT_EQ(without_date({.if_modified_since = kAfter}), Outcome::kProceed);
  EXPECT_EQ(without_date({.if_range = kLastModified}), Outcome::kProceedIgnoringRange);
  EXPECT_EQ(without_date({.if_none_match = kEtag}), Outcome::kNotModified);
}

}  // namespace
}  // namespace s3hc::s3
