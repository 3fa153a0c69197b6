// Why a name could not be turned into addresses, as error codes of their own category, so
// whoever tried to reach an origin can tell a resolution failure (503, counted as `resolve`)
// from a connection failure. Pure functions; any thread.
#pragma once

#include <boost/system/error_code.hpp>

namespace s3hc::net {

enum class ResolveError {
  kNotFound = 1,  // NXDOMAIN, or an answer without any A or AAAA record
  kTimedOut,      // no answer within the resolver's timeout
  kFailed,        // any other DNS failure (SERVFAIL, refused, malformed answer, no server)
  kInward,        // a name a client chose resolved only to addresses it may not lead to
                  // (inward_addresses.h): a refusal, not a failure
};

const boost::system::error_category& resolve_category();

inline boost::system::error_code make_error_code(ResolveError error) {
  return {static_cast<int>(error), resolve_category()};
}

inline bool is_resolve_error(const boost::system::error_code& ec) {
  return ec.category() == resolve_category();
}

}  // namespace s3hc::net

template <>
struct boost::system::is_error_code_enum<s3hc::net::ResolveError> : std::true_type {};
