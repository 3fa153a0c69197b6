// The proxy's metrics registry as a report to the control plane (control.proto's
// MetricsReport): every family of collect(), what /metrics shows. Any thread.
#pragma once

#include <chrono>
#include <string>

#include "obs/metrics.h"
#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

v1::MetricsReport metrics_report(const obs::MetricsRegistry& registry, const std::string& proxy_id,
                                 std::chrono::system_clock::time_point counting_since);

}  // namespace s3hc::control
