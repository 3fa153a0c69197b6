#include "cache/store/range_file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <span>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "cache/cache_layout.h"
#include "cache/store/block_codec.h"
#include "util/errno_error.h"
#include "util/little_endian.h"

namespace s3hc::cache {
namespace {

constexpr std::string_view kHeaderMagic = "S3HCRNG1";
constexpr std::string_view kFooterMagic = "S3HCEND1";
constexpr std::size_t kHeaderBytes = 32;
constexpr std::size_t kFooterTailBytes = 24;  // count, reserved, checksum, magic
// Files up to this size are read whole when opened.
constexpr std::size_t kWholeFileBytes = 64 * 1024;


std::string encode_header(std::uint32_t block_size, std::uint64_t first, std::uint64_t length) {
  std::string header(kHeaderMagic);
  util::append_le(header, block_size, 4);
  util::append_le(header, 0, 4);
  util::append_le(header, first, 8);
  util::append_le(header, length, 8);
  return header;
}

// Reads `first` then `second` from `offset` on, exactly; false on error or end of file.
bool read_exact_vectored(int fd, std::uint64_t offset, std::span<char> first,
                         std::span<char> second) {
  iovec pieces[2] = {{first.data(), first.size()}, {second.data(), second.size()}};
  std::size_t done = 0;
  const std::size_t total = first.size() + second.size();
  while (done < total) {
    // Skip what the previous (short) read already filled.
    int index = done < first.size() ? 0 : 1;
    const auto skip = index == 0 ? done : done - first.size();
    iovec rest[2] = {{static_cast<char*>(pieces[index].iov_base) + skip,
                      pieces[index].iov_len - skip},
                     pieces[1]};
    const auto got = ::preadv(fd, rest, index == 0 ? 2 : 1, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

// Reads exactly size bytes at offset; false on error or end of file.
bool read_exact(int fd, std::uint64_t offset, std::size_t size, std::string& out) {
  out.resize(size);
  std::size_t done = 0;
  while (done < size) {
    const auto got = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

std::string new_range_file_name(std::uint64_t first) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  // Appended piecewise: GCC 12 raises a false -Wrestrict on chained std::string operator+.
  std::string name = "r";
  name += std::to_string(first);
  name += '.';
  name += std::to_string(generator());
  name += ".rng";
  return name;
}

RangeFileWriter::RangeFileWriter(std::string final_path, std::uint64_t first,
                                 std::uint32_t block_size, bool try_compress)
    : final_path_(std::move(final_path)),
      temp_path_(CacheLayout::temp_path_for(final_path_)),
      first_(first),
      block_size_(block_size),
      try_compress_(try_compress) {
  if (block_size_ == 0 || block_size_ > kMaxBlockBytes) {
    throw std::invalid_argument("range file block size out of bounds");
  }
  // Read-write: readers of the unfinished file share the descriptor (describe_written).
  fd_ = ::open(temp_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) util::throw_errno("create " + temp_path_);
  try {
    // The real header goes in at commit, when the length is known.
    write_all(std::string(kHeaderBytes, '\0'));
  } catch (...) {
    // No destructor runs for an object whose constructor threw: clean up here.
    ::close(fd_);
    ::unlink(temp_path_.c_str());
    throw;
  }
}

RangeFileWriter::~RangeFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void RangeFileWriter::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written =
        ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(file_offset_));
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) util::throw_errno("write " + temp_path_);
    bytes.remove_prefix(static_cast<std::size_t>(written));
    file_offset_ += static_cast<std::uint64_t>(written);
  }
}

void RangeFileWriter::flush_block() {
  encoded_.clear();
  encode_block(pending_, try_compress_, encoded_);
  // The first block is the trial: content it does not compress is stored raw from then on,
  // sparing a futile LZ4 pass over every later block.
  if (block_offsets_.empty() && try_compress_) {
    try_compress_ = parse_block_header(encoded_)->codec == BlockCodec::kLz4;
  }
  block_offsets_.push_back(file_offset_);
  write_all(encoded_);
  blocks_end_ = file_offset_;
  pending_.clear();
}

void RangeFileWriter::append(std::string_view bytes) {
  length_ += bytes.size();
  while (!bytes.empty()) {
    const auto take = std::min<std::size_t>(bytes.size(), block_size_ - pending_.size());
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (pending_.size() == block_size_) flush_block();
  }
}

void RangeFileWriter::describe_written(UnfinishedRangeFile& file) const {
  if (!file.file) {
    // The writer's own descriptor (read-write) while it writes; the final file after that.
    const int fd = fd_ >= 0 ? ::fcntl(fd_, F_DUPFD_CLOEXEC, 0)
                            : ::open(final_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) util::throw_errno("open for readers " + final_path_);
    file.file = std::make_shared<const util::UniqueFd>(fd);
  }
  file.first = first_;
  file.block_size = block_size_;
  file.block_offsets.insert(file.block_offsets.end(),
                            block_offsets_.begin() + static_cast<std::ptrdiff_t>(
                                                         file.block_offsets.size()),
                            block_offsets_.end());
  // Only the last block, written at commit, may be short.
  file.length = committed_ ? length_ : block_offsets_.size() * std::uint64_t{block_size_};
  file.blocks_end = blocks_end_;
}

void RangeFileWriter::commit() {
  if (length_ == 0) throw std::logic_error("an empty range file is never written");
  if (!pending_.empty()) flush_block();
  const auto header = encode_header(block_size_, first_, length_);
  std::string footer;
  for (const auto offset : block_offsets_) util::append_le(footer, offset, 8);
  util::append_le(footer, block_offsets_.size(), 4);
  util::append_le(footer, 0, 4);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, header.data(), header.size());
  XXH3_64bits_update(state, footer.data(), footer.size());  // offsets, count, reserved
  util::append_le(footer, XXH3_64bits_digest(state), 8);
  XXH3_freeState(state);
  footer.append(kFooterMagic);
  write_all(footer);
  if (::pwrite(fd_, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
    util::throw_errno("write header " + temp_path_);
  }
  if (::fsync(fd_) != 0) util::throw_errno("fsync " + temp_path_);
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    util::throw_errno("rename " + final_path_);
  committed_ = true;
}

RangeFileReader::RangeFileReader(int fd, std::string whole, std::uint64_t first,
                                 std::uint64_t length, std::uint32_t block_size,
                                 std::vector<std::uint64_t> block_offsets,
                                 std::uint64_t blocks_end)
    : fd_(fd),
      whole_(std::move(whole)),
      first_(first),
      length_(length),
      block_size_(block_size),
      block_offsets_(std::move(block_offsets)),
      blocks_end_(blocks_end) {}

RangeFileReader::RangeFileReader(RangeFileReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      identity_(std::move(other.identity_)),
      whole_(std::move(other.whole_)),
      first_(other.first_),
      length_(other.length_),
      block_size_(other.block_size_),
      block_offsets_(std::move(other.block_offsets_)),
      blocks_end_(other.blocks_end_) {}

RangeFileReader::~RangeFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<RangeFileReader> RangeFileReader::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  auto fail = [fd] {
    ::close(fd);
    return std::nullopt;
  };
  const auto file_size = ::lseek(fd, 0, SEEK_END);
  if (file_size < static_cast<off_t>(kHeaderBytes + kFooterTailBytes)) return fail();
  // A small file (a small object) is read whole at once: one read instead of four.
  std::string whole;
  if (file_size <= static_cast<off_t>(kWholeFileBytes) &&
      !read_exact(fd, 0, static_cast<std::size_t>(file_size), whole)) {
    return fail();
  }
  const auto fetch = [&](std::uint64_t offset, std::size_t size, std::string& out) {
    if (whole.empty()) return read_exact(fd, offset, size, out);
    out.assign(whole, offset, size);
    return true;
  };
  std::string header, tail;
  if (!fetch(0, kHeaderBytes, header) ||
      !fetch(static_cast<std::uint64_t>(file_size) - kFooterTailBytes, kFooterTailBytes, tail) ||
      !header.starts_with(kHeaderMagic) || !tail.ends_with(kFooterMagic)) {
    return fail();
  }
  const auto block_size = static_cast<std::uint32_t>(util::read_le(header, 8, 4));
  const auto first = util::read_le(header, 16, 8);
  const auto length = util::read_le(header, 24, 8);
  const auto count = util::read_le(tail, 0, 4);
  const auto expected_checksum = util::read_le(tail, 8, 8);
  if (block_size == 0 || block_size > kMaxBlockBytes || length == 0 ||
      count != (length + block_size - 1) / block_size) {
    return fail();
  }
  const auto offsets_bytes = count * 8;
  if (static_cast<std::uint64_t>(file_size) < kHeaderBytes + offsets_bytes + kFooterTailBytes) {
    return fail();
  }
  const auto footer_start =
      static_cast<std::uint64_t>(file_size) - kFooterTailBytes - offsets_bytes;
  std::string offsets_text;
  if (!fetch(footer_start, offsets_bytes, offsets_text)) return fail();
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, header.data(), header.size());
  XXH3_64bits_update(state, offsets_text.data(), offsets_text.size());
  XXH3_64bits_update(state, tail.data(), 8);  // count and reserved
  const auto checksum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  if (checksum != expected_checksum) return fail();
  std::vector<std::uint64_t> offsets(count);
  for (std::size_t i = 0; i < count; ++i) offsets[i] = util::read_le(offsets_text, i * 8, 8);
  if (!whole.empty()) {
    ::close(fd);
    return RangeFileReader(-1, std::move(whole), first, length, block_size, std::move(offsets),
                           footer_start);
  }
  RangeFileReader reader(fd, {}, first, length, block_size, std::move(offsets), footer_start);
  reader.path_ = path;
  return reader;
}

std::optional<RangeFileReader> RangeFileReader::open_unfinished(const UnfinishedRangeFile& file) {
  if (file.block_offsets.empty() || !file.file) return std::nullopt;
  const int fd = ::fcntl(file.file->get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  return RangeFileReader(fd, {}, file.first, file.length, file.block_size, file.block_offsets,
                         file.blocks_end);
}

bool RangeFileReader::read_at(std::uint64_t offset, std::span<char> first,
                              std::span<char> second) const {
  if (fd_ >= 0) return read_exact_vectored(fd_, offset, first, second);
  if (offset + first.size() + second.size() > whole_.size()) return false;
  std::memcpy(first.data(), whole_.data() + offset, first.size());
  std::memcpy(second.data(), whole_.data() + offset + first.size(), second.size());
  return true;
}

std::optional<std::string> RangeFileReader::read(const s3::ByteRange& wanted) const {
  std::string out(wanted.length(), '\0');
  if (!read_into(wanted, out.data())) return std::nullopt;
  return out;
}

void RangeFileReader::check_within(const s3::ByteRange& wanted) const {
  const auto held = range();
  if (wanted.first < held.first || wanted.last > held.last || wanted.first > wanted.last) {
    throw std::out_of_range("range file read outside the file's range");
  }
}

std::optional<RangeFileReader::BlockSlice> RangeFileReader::slice(
    std::uint64_t block, const s3::ByteRange& wanted) const {
  // Blocks lie back to back: the footer's offsets give each one's extent, so header and
  // payload come in one read.
  const auto offset = block_offsets_[block];
  const auto end = block + 1 < block_offsets_.size() ? block_offsets_[block + 1] : blocks_end_;
  if (end < offset + kBlockHeaderBytes || end - offset - kBlockHeaderBytes > kMaxBlockBytes) {
    return std::nullopt;
  }
  const auto block_first = first_ + block * block_size_;
  const auto decoded_size = std::min<std::uint64_t>(block_size_, first_ + length_ - block_first);
  return BlockSlice{.offset = offset,
                    .payload_size = static_cast<std::size_t>(end - offset - kBlockHeaderBytes),
                    .decoded_size = decoded_size,
                    .from = std::max(wanted.first, block_first) - block_first,
                    .to = std::min(wanted.last, block_first + decoded_size - 1) - block_first};
}

const std::optional<FileIdentity>& RangeFileReader::identity() const {
  if (!identity_) identity_ = fd_ >= 0 ? identify(fd_, path_) : std::nullopt;
  return *identity_;
}

bool RangeFileReader::read_into(const s3::ByteRange& wanted, char* out,
                                VerifiedBlocks* verified) const {
  check_within(wanted);
  thread_local std::string scratch, decoded;
  const auto first_block = (wanted.first - first_) / block_size_;
  const auto last_block = (wanted.last - first_) / block_size_;
  for (auto block = first_block; block <= last_block; ++block) {
    const auto part = slice(block, wanted);
    if (!part) return false;
    char* destination = out + (first_ + block * block_size_ + part->from - wanted.first);
    // A whole block stored raw (the size says so: LZ4 is only kept when smaller) lands
    // straight in `out`.
    const bool direct = part->from == 0 && part->to + 1 == part->decoded_size &&
                        part->payload_size == part->decoded_size;
    char* payload = destination;
    if (!direct) {
      scratch.resize(part->payload_size);
      payload = scratch.data();
    }
    char header_bytes[kBlockHeaderBytes];
    if (!read_at(part->offset, {header_bytes, kBlockHeaderBytes}, {payload, part->payload_size})) {
      return false;
    }
    const auto header = parse_block_header({header_bytes, kBlockHeaderBytes});
    if (!header || header->stored_size != part->payload_size ||
        header->raw_size != part->decoded_size) {
      return false;
    }
    const std::string_view stored(payload, part->payload_size);
    if (direct) {
      if (header->codec != BlockCodec::kStored || !block_checksum_matches(*header, stored)) {
        return false;
      }
    } else {
      if (!decode_block(*header, stored, decoded)) return false;
      std::memcpy(destination, decoded.data() + part->from, part->to - part->from + 1);
    }
    if (verified && header->codec == BlockCodec::kStored && identity()) {
      verified->add(*identity(), block);
    }
  }
  return true;
}

std::optional<std::vector<RangeFileReader::FileSpan>> RangeFileReader::raw_spans(
    const s3::ByteRange& wanted, const VerifiedBlocks& verified) const {
  check_within(wanted);
  if (fd_ < 0 || !identity()) return std::nullopt;
  std::vector<FileSpan> spans;
  const auto first_block = (wanted.first - first_) / block_size_;
  const auto last_block = (wanted.last - first_) / block_size_;
  for (auto block = first_block; block <= last_block; ++block) {
    const auto part = slice(block, wanted);
    if (!part || part->payload_size != part->decoded_size ||
        !verified.contains(*identity(), block)) {
      return std::nullopt;
    }
    spans.push_back({part->offset + kBlockHeaderBytes + part->from, part->to - part->from + 1});
  }
  return spans;
}

}  // namespace s3hc::cache
