// How s3hc-ctl prints: aligned tables for people, JSON (protobuf's mapping, field names as
// in the .proto and the policy files) for scripts.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace s3hc::cli {

using Row = std::vector<std::string>;

// Columns padded to their widest cell, the header first.
void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows);

// The message as one JSON document, every field shown (zeros included), and a newline.
std::string to_json(const google::protobuf::Message& message);

// "2026-12-03T01:02:03Z"; "-" for 0.
std::string utc_time(std::int64_t unix_ms);

}  // namespace s3hc::cli
