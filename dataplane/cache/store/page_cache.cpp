#include "cache/store/page_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace s3hc::cache {

bool in_page_cache(int fd, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return true;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const auto start = offset - offset % page;
  const auto span = offset + length - start;
  void* mapping = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
  if (mapping == MAP_FAILED) return false;
  std::vector<unsigned char> resident((span + page - 1) / page);
  const bool known = ::mincore(mapping, span, resident.data()) == 0;
  ::munmap(mapping, span);
  return known && std::all_of(resident.begin(), resident.end(),
                              [](unsigned char state) { return (state & 1) != 0; });
}

}  // namespace s3hc::cache
