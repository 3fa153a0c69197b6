// What a proxy does for an operator's command from the control plane: a purge, through the
// proxy's own object store on the shared cache directory (cache/store/purge.h).
#pragma once

#include "cache/store/object_store.h"

#include "s3hc/v1/control.pb.h"

namespace s3hc::control {

// `store`: the proxy's, null when it keeps no cache. Never throws: a fault is the result's
// error.
v1::CommandResult carry_out_command(cache::ObjectStore* store, const v1::ProxyCommand& command);

}  // namespace s3hc::control
