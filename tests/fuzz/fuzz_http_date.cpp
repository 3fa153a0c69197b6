// HTTP dates (s3/http_date.h). Input: the date text, a newline, the clock's "now" in decimal
// seconds since the epoch (optional; taken modulo the years 1970-2999).
// Checks: a parsed date formats as an IMF-fixdate that parses back to it, an RFC 850 date's
// year lies within 50 years of now, and surrounding blanks change nothing.
#include <string>

#include "fuzz_common.h"
#include "s3/http_date.h"
#include "util/ascii.h"

namespace {

constexpr std::int64_t kYear10000 = 253'402'300'800;      // 10000-01-01T00:00:00Z
constexpr std::int64_t kYear0 = -62'167'219'200;          // 0000-01-01T00:00:00Z
constexpr std::int64_t kYear3000 = 32'503'680'000;        // 3000-01-01T00:00:00Z
constexpr std::int64_t kSecondsPerYear = 31'556'952;      // mean Gregorian year

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = s3hc::fuzz::fields(s3hc::fuzz::as_text(data, size), 2);
  const auto text = input[0];
  const auto now_value = s3hc::util::parse_decimal_u64(input[1]);
  const std::int64_t now =
      now_value ? static_cast<std::int64_t>(*now_value % static_cast<std::uint64_t>(kYear3000))
                : 1'700'000'000;

  const auto parsed = s3hc::s3::parse_http_date(text, now);
  (void)s3hc::s3::parse_http_date(text);
  if (!parsed) return 0;
  S3HC_FUZZ_CHECK(*parsed >= kYear0 && *parsed <= kYear10000);
  S3HC_FUZZ_CHECK(s3hc::s3::parse_http_date(" \t" + std::string(text) + "\t ", now) == parsed);
  if (*parsed < kYear10000) {
    const auto formatted = s3hc::s3::format_http_date(*parsed);
    S3HC_FUZZ_CHECK(formatted.size() == 29);
    S3HC_FUZZ_CHECK(s3hc::s3::parse_http_date(formatted, now) == parsed);
  }
  // RFC 850 (the only form with a comma that is not at index 3) places its two-digit year.
  const auto comma = text.find(',');
  if (comma != std::string_view::npos && text.find_first_not_of(" \t") + 3 != comma) {
    S3HC_FUZZ_CHECK(*parsed <= now + 51 * kSecondsPerYear);
    S3HC_FUZZ_CHECK(*parsed >= now - 51 * kSecondsPerYear);
  }
  return 0;
}
