// Whether cached bytes are worth LZ4-compressing. Already-compressed content (media, archives,
// compressed columnar files) gains nothing and costs CPU on every fill, so it is stored as is;
// for the rest, a trial on the first block decides. Pure functions; any thread.
#pragma once

#include <string_view>

namespace s3hc::cache {

// True when the Content-Type or the key's extension says the bytes are already compressed.
bool known_incompressible(std::string_view content_type, std::string_view key);

// A trial compression of a sample (typically the first block): true when LZ4 passes the same
// bar (compression_pays) encode_block applies per block.
bool compresses_well(std::string_view sample);

}  // namespace s3hc::cache
