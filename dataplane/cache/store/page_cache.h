// Whether the page cache holds a stretch of a file, so that sending it (sendfile) reads no
// disk. With a cache I/O pool, an event loop sends a large hit's files itself only then
// (pipeline/cached_body.h): a page-cache miss would block it on the disk. Any thread.
#pragma once

#include <cstdint>

namespace s3hc::cache {

// True when every page of bytes [offset, offset + length) of the open file `fd` is in the
// page cache (mincore(2) over a read-only mapping, which maps no page in); false when one is
// not, or when it cannot be told.
bool in_page_cache(int fd, std::uint64_t offset, std::uint64_t length);

}  // namespace s3hc::cache
