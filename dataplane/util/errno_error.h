// Turning a failed POSIX call into an exception that names what was being done.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace s3hc::util {

[[noreturn]] inline void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace s3hc::util
