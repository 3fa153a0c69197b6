#include "obs/passthrough_metrics.h"

namespace s3hc::obs {

PassthroughMetrics::PassthroughMetrics(MetricsRegistry& registry)
    : connections(registry.counter_family(
          "s3hc_passthrough_connections_total",
          "HTTPS passthrough connections, by how they ended up: relayed, or closed at once "
          "and why.",
          {"result"})),
      bytes(registry.counter_family("s3hc_passthrough_bytes_total",
                                    "Bytes relayed by the HTTPS passthrough, by direction.",
                                    {"direction"})),
      client_to_origin_bytes(bytes.with({"client_to_origin"})),
      origin_to_client_bytes(bytes.with({"origin_to_client"})),
      open_connections(registry.gauge("s3hc_passthrough_open_connections",
                                      "Open HTTPS passthrough connections.")),
      result_counters_{&connections.with({"relayed"}),     &connections.with({"no_sni"}),
                       &connections.with({"not_tls"}),     &connections.with({"malformed"}),
                       &connections.with({"incomplete"}),  &connections.with({"refused"}),
                       &connections.with({"unresolved"}),  &connections.with({"unreachable"}),
                       &connections.with({"limit"})} {}

}  // namespace s3hc::obs
