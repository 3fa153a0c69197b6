// The HTTPS passthrough's metrics (passthrough/passthrough_session.h), registered once in the
// process-wide registry when the passthrough listener is on, and shared by every worker
// thread (updates are atomic).
#pragma once

#include <array>

#include "obs/metrics.h"

namespace s3hc::obs {

// How a passthrough connection ended up (label `result`).
enum class PassthroughResult {
  kRelayed,      // connected to its endpoint and relayed (however the relay then ended)
  kNoSni,        // a ClientHello without a server name
  kNotTls,       // the first bytes were no TLS handshake
  kMalformed,    // TLS records without a well-formed ClientHello, or one too large
  kIncomplete,   // closed, or silent past the timeout, before a whole ClientHello
  kRefused,      // a server name the proxy may not reach (upstream.allowed_hosts)
  kUnresolved,   // its endpoint's name could not be resolved
  kUnreachable,  // no address of its endpoint accepted a connection
  kLimit,        // closed at once: passthrough.max_connections were open
};
inline constexpr std::size_t kPassthroughResults = 9;

struct PassthroughMetrics {
  explicit PassthroughMetrics(MetricsRegistry& registry);

  void count(PassthroughResult result) {
    result_counters_[static_cast<std::size_t>(result)]->inc();
  }

  Family<Counter>& connections;  // by result
  Family<Counter>& bytes;        // by direction
  Counter& client_to_origin_bytes;
  Counter& origin_to_client_bytes;
  Gauge& open_connections;

 private:
  std::array<Counter*, kPassthroughResults> result_counters_;
};

}  // namespace s3hc::obs
