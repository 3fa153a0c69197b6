#include <gtest/gtest.h>

#include "s3/http_date.h"

namespace s3hc::s3 {
namespace {

constexpr std::int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::int64_t kStartOf2026 = 1767225600;
constexpr std::int64_t kStartOf2099 = 4070908800;

TEST(HttpDateTest, ParsesTheThreeFormsOfTheRfcExample) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kStartOf2026), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov 06 08:49:37 1994"), kRfcExample);
  EXPECT_EQ(parse_http_date(" \tSun, 06 Nov 1994 08:49:37 GMT "), kRfcExample);
}

TEST(HttpDateTest, ComputesTheCivilCalendar) {
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), -1);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600);
  EXPECT_EQ(parse_http_date("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648);  // past 32 bits
  EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:60 GMT"), kRfcExample + 23);  // leap second
}

TEST(HttpDateTest, DayNameNeedNotAgreeWithTheDate) {
  EXPECT_EQ(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"), kRfcExample);
}

TEST(HttpDateTest, Rfc850YearsAreAtMostFiftyYearsAhead) {
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-76 00:00:00 GMT", kStartOf2026), 3345062400);
  EXPECT_EQ(parse_http_date("Saturday, 01-Jan-77 00:00:00 GMT", kStartOf2026), 220924800);
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT", kStartOf2026), kStartOf2026);
  // In 2099, "00" is next year, not a century ago.
  EXPECT_EQ(parse_http_date("Friday, 01-Jan-00 00:00:00 GMT", kStartOf2099), 4102444800);
  // Without `now`, the clock decides; 1994 stays in the past until 2044.
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);
}

TEST(HttpDateTest, RejectsMalformedDates) {
  for (const char* text : {"",
                           "GMT",
                           "Sun, 06 Nov 1994 08:49:37",
                           "Sun, 06 Nov 1994 08:49:37 UTC",
                           "Sun, 06 Nov 1994 08:49:37 gmt",
                           "sun, 06 Nov 1994 08:49:37 GMT",
                           "Sun, 06 nov 1994 08:49:37 GMT",
                           "Sun, 6 Nov 1994 08:49:37 GMT",
                           "Sun,  06 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov 94 08:49:37 GMT",
                           "Sun, 06 Nov 1994 8:49:37 GMT",
                           "Sun, 06 Nov 1994 08:49 GMT",
                           "Sun, 06 Nov 1994 24:00:00 GMT",
                           "Sun, 06 Nov 1994 08:60:00 GMT",
                           "Sun, 06 Nov 1994 08:49:61 GMT",
                           "Sun, 30 Feb 1994 08:49:37 GMT",
                           "Sun, 29 Feb 1900 08:49:37 GMT",
                           "Sun, 00 Nov 1994 08:49:37 GMT",
                           "Xyz, 06 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov +994 08:49:37 GMT",
                           "Sunday, 06-Nov-1994 08:49:37 GMT",
                           "Sun, 06-Nov-94 08:49:37 GMT",
                           "Funday, 06-Nov-94 08:49:37 GMT",
                           "Sunday, 06 Nov 94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 94",
                           "Sun Nov 6 08:49:37 1994",
                           "Sun Nov  6 08:49:37 1994 GMT",
                           "1994-11-06T08:49:37Z",
                           "784111777"}) {
    EXPECT_FALSE(parse_http_date(text, kStartOf2026)) << text;
  }
}

TEST(HttpDateTest, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(format_http_date(1709164800), "Thu, 29 Feb 2024 00:00:00 GMT");
  EXPECT_EQ(format_http_date(-62135596800), "Mon, 01 Jan 0001 00:00:00 GMT");
}

TEST(HttpDateTest, FormatThenParseRoundTrips) {
  for (std::int64_t seconds = -86'400LL * 366 * 3; seconds < 86'400LL * 366 * 200;
       seconds += 86'400 * 17 + 3'671) {
    ASSERT_EQ(parse_http_date(format_http_date(seconds)), seconds) << format_http_date(seconds);
  }
}

}  // namespace
}  // namespace s3hc::s3
