// The Prometheus text exposition (version 0.0.4) of a metrics snapshot: what a proxy's
// /metrics serves of its registry and the control plane's of the fleet's sum. Pure.
#pragma once

#include <string>
#include <vector>

#include "obs/metrics.h"

namespace s3hc::obs {

std::string prometheus_text(const std::vector<FamilySnapshot>& families);

// A series' labels as the exposition writes them: {a="x",b="y"} (values escaped), or nothing
// for a series without labels.
std::string prometheus_labels(const std::vector<std::string>& names,
                              const std::vector<std::string>& values);

}  // namespace s3hc::obs
