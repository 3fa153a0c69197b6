#include "s3/http_date.h"

#include <array>
#include <chrono>
#include <cstdio>

namespace s3hc::s3 {
namespace {

namespace chrono = std::chrono;

constexpr std::int64_t kSecondsPerDay = 86'400;

constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

template <std::size_t N>
bool is_one_of(std::string_view text, const std::array<std::string_view, N>& names) {
  for (const auto name : names) {
    if (text == name) return true;
  }
  return false;
}

// 1-12; 0 when `text` is no month name (which to_epoch_seconds then rejects).
unsigned month_number(std::string_view text) {
  for (unsigned i = 0; i < kMonthNames.size(); ++i) {
    if (text == kMonthNames[i]) return i + 1;
  }
  return 0;
}

// The value of one to four decimal digits; nullopt for anything else (no sign, no space).
std::optional<int> digits_value(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The parts of a date as each form lays them out; to_epoch_seconds checks and combines them.
struct DateParts {
  int year = 0;
  unsigned month = 0;            // 1-12, 0 for a bad name
  std::string_view day;          // "06" or "6"
  std::string_view time_of_day;  // "HH:MM:SS"
};

std::optional<std::int64_t> to_epoch_seconds(const DateParts& parts) {
  const auto day = digits_value(parts.day);
  const auto& time = parts.time_of_day;
  if (!day || time.size() != 8 || time[2] != ':' || time[5] != ':') return std::nullopt;
  const auto hour = digits_value(time.substr(0, 2));
  const auto minute = digits_value(time.substr(3, 2));
  const auto second = digits_value(time.substr(6, 2));
  if (!hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  const chrono::year_month_day date{chrono::year{parts.year}, chrono::month{parts.month},
                                    chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;
  const std::int64_t days = chrono::sys_days{date}.time_since_epoch().count();
  return days * kSecondsPerDay + *hour * 3600 + *minute * 60 + *second;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf_fixdate(std::string_view text) {
  if (text.size() != 29 || !is_one_of(text.substr(0, 3), kDayNames) || text.substr(3, 2) != ", " ||
      text[7] != ' ' || text[11] != ' ' || text[16] != ' ' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  const auto year = digits_value(text.substr(12, 4));
  if (!year) return std::nullopt;
  return to_epoch_seconds(
      {*year, month_number(text.substr(8, 3)), text.substr(5, 2), text.substr(17, 8)});
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<std::int64_t> parse_rfc850_date(std::string_view text, std::int64_t now) {
  const auto comma = text.find(", ");
  if (comma == std::string_view::npos || !is_one_of(text.substr(0, comma), kLongDayNames)) {
    return std::nullopt;
  }
  const auto date = text.substr(comma + 2);  // "06-Nov-94 08:49:37 GMT"
  if (date.size() != 22 || date[2] != '-' || date[6] != '-' || date[9] != ' ' ||
      date.substr(18) != " GMT") {
    return std::nullopt;
  }
  const auto two_digit_year = digits_value(date.substr(7, 2));
  if (!two_digit_year) return std::nullopt;
  const auto today = chrono::floor<chrono::days>(chrono::sys_seconds{chrono::seconds{now}});
  const int latest_year = static_cast<int>(chrono::year_month_day{today}.year()) + 50;
  const int year = latest_year - ((latest_year - *two_digit_year) % 100 + 100) % 100;
  return to_epoch_seconds(
      {year, month_number(date.substr(3, 3)), date.substr(0, 2), date.substr(10, 8)});
}

// "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space)
std::optional<std::int64_t> parse_asctime_date(std::string_view text) {
  if (text.size() != 24 || !is_one_of(text.substr(0, 3), kDayNames) || text[3] != ' ' ||
      text[7] != ' ' || text[10] != ' ' || text[19] != ' ') {
    return std::nullopt;
  }
  auto day = text.substr(8, 2);
  if (day[0] == ' ') day.remove_prefix(1);
  const auto year = digits_value(text.substr(20, 4));
  if (!year) return std::nullopt;
  return to_epoch_seconds({*year, month_number(text.substr(4, 3)), day, text.substr(11, 8)});
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text, std::int64_t now) {
  text = trim(text);
  if (text.size() > 3 && text[3] == ',') return parse_imf_fixdate(text);
  if (text.size() > 3 && text[3] == ' ') return parse_asctime_date(text);
  return parse_rfc850_date(text, now);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  const auto now = chrono::floor<chrono::seconds>(chrono::system_clock::now());
  return parse_http_date(text, now.time_since_epoch().count());
}

std::string format_http_date(std::int64_t seconds_since_epoch) {
  const chrono::sys_seconds instant{chrono::seconds{seconds_since_epoch}};
  const auto day = chrono::floor<chrono::days>(instant);
  const chrono::year_month_day date{day};
  const chrono::hh_mm_ss time{instant - day};
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kDayNames[chrono::weekday{day}.c_encoding()].data(),
                static_cast<unsigned>(date.day()),
                kMonthNames[static_cast<unsigned>(date.month()) - 1].data(),
                static_cast<int>(date.year()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
  return text;
}

}  // namespace s3hc::s3
