// ASCII helpers for protocol text (header names, media types), where locale rules must not
// apply. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace s3hc::util {

inline std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace s3hc::util
