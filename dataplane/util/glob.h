// Glob patterns for object keys: `*` matches any run of characters (`/` included, as keys
// have no directories), `?` exactly one, everything else itself. Pure; any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace s3hc::util {

bool glob_matches(std::string_view pattern, std::string_view text);

// The characters of `pattern` that must appear as they are (all but `*` and `?`).
std::size_t glob_literal_length(std::string_view pattern);

}  // namespace s3hc::util
