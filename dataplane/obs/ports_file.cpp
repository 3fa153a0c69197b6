#include "obs/ports_file.h"

#include <nlohmann/json.hpp>

#include <system_error>

#include "cache/synced_file.h"

namespace s3hc::obs {

std::string ports_json(const BoundPorts& ports) {
  // An ordered_json keeps the keys in the documented order, for people reading the file.
  nlohmann::ordered_json json{{"listen", ports.listen}, {"admin", ports.admin}};
  if (ports.passthrough) json["passthrough"] = *ports.passthrough;
  return json.dump() + "\n";
}

void write_ports_file(const std::string& path, const BoundPorts& ports) {
  // The cache's whole-file writer already does temp file + sync + rename in the same
  // directory (the stamp it returns matters only to cache readers).
  try {
    cache::write_file_atomically(path, ports_json(ports));
  } catch (const std::system_error& error) {
    // Named as the operator wrote it, not as the temp file that failed.
    throw std::system_error(error.code(), "ports file " + path);
  }
}

}  // namespace s3hc::obs
