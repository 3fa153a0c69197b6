#include "cache/fleet/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "util/little_endian.h"

namespace s3hc::cache {
namespace {

constexpr std::string_view kSegmentSuffix = ".jnl";
constexpr std::size_t kSeqDigits = 10;
// Tries at creating a segment (its name taken by a file this writer did not make, or the
// directory gone again) before giving up on the batch; the seq stays where it got to.
constexpr int kMaxCreateAttempts = 16;

bool valid_writer_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

std::string segment_name(std::string_view writer_id, std::uint64_t seq) {
  auto digits = std::to_string(seq);
  if (digits.size() < kSeqDigits) digits.insert(0, kSeqDigits - digits.size(), '0');
  std::string name(writer_id);
  name += '.';
  name += digits;
  name += kSegmentSuffix;
  return name;
}

// Writer id and seq of a file named like a segment.
std::optional<std::pair<std::string, std::uint64_t>> parse_segment_name(std::string_view name) {
  if (!name.ends_with(kSegmentSuffix)) return std::nullopt;
  const auto stem = name.substr(0, name.size() - kSegmentSuffix.size());
  const auto dot = stem.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto writer_id = stem.substr(0, dot);
  const auto digits = stem.substr(dot + 1);
  if (!valid_writer_id(writer_id)) return std::nullopt;
  std::uint64_t seq = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  // Only the name a writer would give it: one seq, one name.
  if (segment_name(writer_id, seq) != name) return std::nullopt;
  return std::pair{std::string(writer_id), seq};
}

// XXH3-64 of a frame's 4 length bytes followed by its payload. One streaming state reused for
// a whole batch or read, rather than copying each payload behind its length.
class RecordChecksum {
 public:
  RecordChecksum() : state_(XXH3_createState()) {
    if (!state_) throw std::bad_alloc();
  }

  std::uint64_t of(std::string_view length_field, std::string_view payload) {
    XXH3_64bits_reset(state_.get());
    XXH3_64bits_update(state_.get(), length_field.data(), length_field.size());
    XXH3_64bits_update(state_.get(), payload.data(), payload.size());
    return XXH3_64bits_digest(state_.get());
  }

 private:
  struct Free {
    void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
  };
  std::unique_ptr<XXH3_state_t, Free> state_;
};

std::string frame_batch(const std::vector<std::string>& records) {
  std::size_t total = 0;
  for (const auto& record : records) total += kJournalFrameHeaderBytes + record.size();
  std::string out;
  out.reserve(total);
  RecordChecksum checksum;
  for (const auto& record : records) {
    std::string length_field;
    util::append_le(length_field, record.size(), 4);
    util::append_le(out, kJournalMagic, 4);
    out += length_field;
    util::append_le(out, checksum.of(length_field, record), 8);
    out += record;
  }
  return out;
}

// Writes all of `bytes`; a short write (disk full, a signal) is continued.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// Appends exactly `size` bytes of the file from `at` to `out`; false on an error or when the
// file ends first (it shrank: not a state a writer leaves, so nothing to conclude from it).
bool read_exactly(int fd, std::uint64_t at, std::uint64_t size, std::string& out) {
  const auto start = out.size();
  out.resize(start + static_cast<std::size_t>(size));
  std::size_t got = 0;
  while (got < size) {
    const auto n = ::pread(fd, out.data() + start + got, size - got, static_cast<off_t>(at + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

struct Frame {
  enum Verdict { kValid, kTorn, kCorrupt, kBeyondWindow } verdict;
  // kValid: the frame's size. kBeyondWindow: how many bytes from `at` the window must hold
  // for the frame to be checked.
  std::uint64_t size = 0;
};

// Checks the frame at `at` in `window` (the file's bytes from the read offset on, maybe not
// all of them), `in_file` bytes of which the file holds from `at` on (at least one).
Frame check_frame(std::string_view window, std::size_t at, std::uint64_t in_file,
                  RecordChecksum& checksum) {
  const auto header_in_file = std::min<std::uint64_t>(in_file, kJournalFrameHeaderBytes);
  if (window.size() - at < header_in_file) return {Frame::kBeyondWindow, header_in_file};
  // Even a prefix of a header shows a wrong magic: no writer left those bytes.
  const int magic_bytes = static_cast<int>(std::min<std::uint64_t>(header_in_file, 4));
  const auto magic_mask = (std::uint64_t{1} << (8 * magic_bytes)) - 1;
  if (util::read_le(window, at, magic_bytes) != (kJournalMagic & magic_mask)) {
    return {Frame::kCorrupt};
  }
  if (header_in_file < kJournalFrameHeaderBytes) return {Frame::kTorn};
  const auto payload_size = util::read_le(window, at + 4, 4);
  if (payload_size > kMaxJournalRecordBytes) return {Frame::kCorrupt};
  const auto frame_size = kJournalFrameHeaderBytes + payload_size;
  if (in_file < frame_size) return {Frame::kTorn};
  if (window.size() - at < frame_size) return {Frame::kBeyondWindow, frame_size};
  const auto stored = util::read_le(window, at + 8, 8);
  const auto computed = checksum.of(window.substr(at + 4, 4),
                                    window.substr(at + kJournalFrameHeaderBytes, payload_size));
  return {computed == stored ? Frame::kValid : Frame::kCorrupt, frame_size};
}

// Reads the valid frames of the open segment from `offset` on into `result`.
void read_frames(int fd, std::uint64_t offset, std::uint64_t max_bytes, JournalRead& result) {
  struct stat st{};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) <= offset) return;
  const auto in_file = static_cast<std::uint64_t>(st.st_size) - offset;
  std::string window;
  if (!read_exactly(fd, offset, std::min(in_file, max_bytes), window)) return;
  RecordChecksum checksum;
  std::size_t at = 0;
  while (at < in_file) {
    const auto frame = check_frame(window, at, in_file - at, checksum);
    if (frame.verdict == Frame::kBeyondWindow && at == 0) {
      // The first record alone is longer than max_bytes: it is returned anyway, else a
      // caller with a small bound could never get past it.
      if (!read_exactly(fd, offset + window.size(), frame.size - window.size(), window)) return;
      continue;
    }
    if (frame.verdict != Frame::kValid) {
      result.corrupt = frame.verdict == Frame::kCorrupt;
      return;
    }
    result.records.emplace_back(
        window.substr(at + kJournalFrameHeaderBytes, frame.size - kJournalFrameHeaderBytes));
    at += frame.size;
    result.next_offset = offset + at;
  }
}

std::int64_t mtime_unix_ms(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

JournalWriter::JournalWriter(std::string dir, std::string writer_id,
                             std::uint64_t max_segment_bytes)
    : dir_(std::move(dir)), writer_id_(std::move(writer_id)),
      max_segment_bytes_(max_segment_bytes), seq_(1) {
  if (!valid_writer_id(writer_id_)) {
    throw std::invalid_argument("journal writer id must be [A-Za-z0-9_-]+: " + writer_id_);
  }
  // The id should be new, but if segments of it exist (a reused id), never append to them.
  for (const auto& segment : list_journal_segments(dir_)) {
    if (segment.writer_id == writer_id_) seq_ = std::max(seq_, segment.seq + 1);
  }
}

bool JournalWriter::append(const std::vector<std::string>& records) {
  if (records.empty()) return true;
  for (const auto& record : records) {
    if (record.size() > kMaxJournalRecordBytes) return false;
  }
  const auto batch = frame_batch(records);
  if (segment_created_ && segment_bytes_ >= max_segment_bytes_) start_next_segment();
  const int fd = open_segment();
  if (fd < 0) return false;
  const bool written = write_all(fd, batch);
  // Over NFS, close() is where a failed flush of the written pages shows.
  const bool closed = ::close(fd) == 0;
  if (!written || !closed) {
    // Part of the batch may be in the segment: never append behind it.
    start_next_segment();
    return false;
  }
  segment_bytes_ += batch.size();
  return true;
}

void JournalWriter::rotate() {
  if (segment_created_) start_next_segment();
}

std::string JournalWriter::segment_path() const {
  return dir_ + '/' + segment_name(writer_id_, seq_);
}

int JournalWriter::open_segment() {
  if (segment_created_) {
    const int fd = ::open(segment_path().c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != ENOENT && errno != ESTALE) return -1;
    // Deleted under us (the consolidator took it for idle, or the directory went): never
    // recreate it, the consolidator may already have forgotten its cursor.
    start_next_segment();
  }
  return create_segment();
}

int JournalWriter::create_segment() {
  for (int attempt = 0; attempt < kMaxCreateAttempts; ++attempt) {
    const int fd = ::open(segment_path().c_str(),
                          O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      segment_created_ = true;
      segment_bytes_ = 0;
      return fd;
    }
    if (errno == EEXIST) {
      // Not ours (it appeared after this writer listed the directory): leave it alone.
      ++seq_;
      continue;
    }
    if (errno != ENOENT) return -1;
    std::error_code error;
    std::filesystem::create_directories(dir_, error);
    if (error) return -1;
  }
  return -1;
}

void JournalWriter::start_next_segment() {
  ++seq_;
  segment_created_ = false;
  segment_bytes_ = 0;
}

std::vector<JournalSegment> list_journal_segments(const std::string& dir) {
  std::vector<JournalSegment> segments;
  DIR* stream = ::opendir(dir.c_str());
  if (!stream) return segments;
  while (const auto* entry = ::readdir(stream)) {
    auto parsed = parse_segment_name(entry->d_name);
    if (!parsed) continue;
    segments.push_back(JournalSegment{.writer_id = std::move(parsed->first),
                                      .seq = parsed->second,
                                      .path = dir + '/' + entry->d_name});
  }
  ::closedir(stream);
  std::sort(segments.begin(), segments.end(), [](const auto& a, const auto& b) {
    return std::tie(a.writer_id, a.seq) < std::tie(b.writer_id, b.seq);
  });
  return segments;
}

JournalRead read_journal_segment(const std::string& path, std::uint64_t offset,
                                 std::uint64_t max_bytes) {
  JournalRead result{.records = {}, .next_offset = offset, .corrupt = false};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return result;
  read_frames(fd, offset, max_bytes, result);
  ::close(fd);
  return result;
}

bool journal_segment_closed(const JournalSegment& segment, const std::vector<JournalSegment>& all,
                            std::int64_t now_ms, std::chrono::milliseconds idle_age) {
  const bool superseded = std::any_of(all.begin(), all.end(), [&](const JournalSegment& other) {
    return other.writer_id == segment.writer_id && other.seq > segment.seq;
  });
  if (superseded) return true;
  struct stat st{};
  if (::stat(segment.path.c_str(), &st) != 0) return errno == ENOENT;
  return now_ms - mtime_unix_ms(st) > idle_age.count();
}

}  // namespace s3hc::cache
