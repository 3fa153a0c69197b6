// HTTP dates (RFC 7231 §7.1.1.1: If-Modified-Since, Last-Modified, ...) as seconds since the
// Unix epoch, computed from the civil date without the C library's locale or time zone.
// Pure functions; any thread. The one-argument parse_http_date reads the system clock, and only
// to place the two-digit years of the RFC 850 form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

// Parses the three forms a recipient must accept:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"  (the one senders generate)
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime      "Sun Nov  6 08:49:37 1994"
// Names are case-sensitive, as the grammar says; surrounding spaces and tabs are ignored. The
// day name must be one but need not agree with the date. A leap second (":60") is accepted and
// counts as the next second. nullopt for anything else, including impossible dates (Feb 30).
// RFC 850's two-digit year is the year with those last digits that is at most 50 years after
// the year of `now` (seconds since the epoch), as RFC 7231 requires.
std::optional<std::int64_t> parse_http_date(std::string_view text, std::int64_t now);
std::optional<std::int64_t> parse_http_date(std::string_view text);

// IMF-fixdate of an instant in the years 0000-9999 (IMF-fixdate has four year digits).
std::string format_http_date(std::int64_t seconds_since_epoch);

}  // namespace s3hc::s3
