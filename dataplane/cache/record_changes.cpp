#include "cache/record_changes.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <system_error>

#include "cache/file_system_kind.h"
#include "cache/synced_file.h"
#include "util/unique_fd.h"

namespace s3hc::cache {

namespace {

// The file: a header (magic, table id), then one 64-bit count per slot, all in host order
// (the file never leaves its host: see record_changes.h).
constexpr std::uint64_t kMagic = 0x3130434852436873;  // "shcRCH01" read as little-endian
constexpr std::size_t kHeaderWords = 2;
constexpr std::size_t kFileBytes = (kHeaderWords + RecordChanges::kSlots) * sizeof(std::uint64_t);

std::uint64_t new_table_id() {
  std::random_device random;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{random()} << 32) | random();
  return id;
}

// Puts a new table at `path` unless one is there: written whole (real blocks, so a full file
// system can never fault a write to the mapping).
void make_table(const std::string& path) {
  std::string bytes(kFileBytes, '\0');
  const std::uint64_t header[kHeaderWords] = {kMagic, new_table_id()};
  std::memcpy(bytes.data(), header, sizeof(header));
  create_file_unless_present(path, bytes);
}

}  // namespace

struct RecordChanges::Table {
  void* base = nullptr;
  dev_t device = 0;
  ino_t inode = 0;

  ~Table() {
    if (base) ::munmap(base, kFileBytes);
  }
  std::uint64_t* words() const { return static_cast<std::uint64_t*>(base); }
  std::uint64_t id() const { return words()[1]; }
  std::atomic_ref<std::uint64_t> slot(std::uint64_t object_hash) const {
    return std::atomic_ref<std::uint64_t>(words()[kHeaderWords + object_hash % kSlots]);
  }
};

RecordChanges::RecordChanges(std::string path) : path_(std::move(path)) {}

RecordChanges::~RecordChanges() = default;

std::shared_ptr<RecordChanges> RecordChanges::open(const std::string& root) {
  if (is_network_file_system(root)) return nullptr;
  std::shared_ptr<RecordChanges> changes(new RecordChanges(root + "/record-changes"));
  changes->follow_path();
  if (!changes->current_.load()) return nullptr;
  return changes;
}

std::unique_ptr<RecordChanges::Table> RecordChanges::map(const std::string& path) {
  try {
    make_table(path);
  } catch (const std::system_error& error) {
    spdlog::warn("{}: {}; records are confirmed by a stat on every hit", path, error.what());
    return nullptr;
  }
  const util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0) return nullptr;
  auto table = std::make_unique<Table>();
  table->device = info.st_dev;
  table->inode = info.st_ino;
  if (static_cast<std::size_t>(info.st_size) == kFileBytes) {
    void* base = ::mmap(nullptr, kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (base != MAP_FAILED) table->base = base;
  }
  if (!table->base || table->words()[0] != kMagic || table->id() == 0) {
    spdlog::warn("{} is not a table of record changes; records are confirmed by a stat on every "
                 "hit",
                 path);
    return nullptr;
  }
  return table;
}

ChangeMark RecordChanges::mark(std::uint64_t object_hash) const {
  const Table* table = current_.load(std::memory_order_acquire);
  if (!table) return {};
  return {.table = table->id(), .count = table->slot(object_hash).load(std::memory_order_acquire)};
}

void RecordChanges::count_change(std::uint64_t object_hash) {
  if (Table* table = current_.load(std::memory_order_acquire)) table->slot(object_hash)++;
}

void RecordChanges::follow_path() {
  std::lock_guard lock(remap_lock_);
  const Table* current = current_.load();
  struct stat info {};
  if (current && ::stat(path_.c_str(), &info) == 0 && info.st_dev == current->device &&
      info.st_ino == current->inode) {
    return;
  }
  auto table = map(path_);
  current_.store(table.get(), std::memory_order_release);
  if (table) tables_.push_back(std::move(table));
}

}  // namespace s3hc::cache
