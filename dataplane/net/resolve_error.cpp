#include "net/resolve_error.h"

#include <string>

namespace s3hc::net {
namespace {

class ResolveCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "s3hc.resolve"; }

  std::string message(int value) const override {
    switch (static_cast<ResolveError>(value)) {
      case ResolveError::kNotFound:
        return "origin name not found in DNS";
      case ResolveError::kTimedOut:
        return "DNS servers did not answer in time";
      case ResolveError::kFailed:
        return "DNS lookup failed";
      case ResolveError::kInward:
        return "the name resolves only to private, loopback, link-local or own addresses";
    }
    return "unknown resolve error";
  }
};

}  // namespace

const boost::system::error_category& resolve_category() {
  static const ResolveCategory category;
  return category;
}

}  // namespace s3hc::net
