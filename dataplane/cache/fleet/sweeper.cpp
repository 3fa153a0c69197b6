#include "cache/fleet/sweeper.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string_view>
#include <system_error>

#include "cache/fleet/dir_removal.h"
#include "cache/disk_usage.h"
#include "cache/synced_file.h"

namespace s3hc::cache {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAreas[] = {"objects", "uploads"};
constexpr std::string_view kFleetDir = "fleet";

bool is_temp(const std::string& name) { return name.find(kTempFileMarker) != std::string::npos; }

// Sorted names of the subdirectories of `dir` (empty when it is missing).
std::vector<std::string> subdirectories(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) {
    if (entry.is_directory(ignored)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct FileEntry {
  std::string name;
  std::int64_t mtime_ms;
};

std::vector<FileEntry> files_of(const std::string& dir) {
  std::vector<FileEntry> files;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) {
    struct stat status {};
    if (::lstat(entry.path().c_str(), &status) != 0) continue;
    files.push_back({entry.path().filename().string(),
                     static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1000 +
                         status.st_mtim.tv_nsec / 1000000});
  }
  return files;
}

// Removes the temp files older than `age` in `dir` (and below, for fleet/).
void remove_old_temp_files(const std::string& dir, std::int64_t older_than_ms) {
  std::error_code ignored;
  for (auto it = fs::recursive_directory_iterator(dir, ignored);
       it != fs::recursive_directory_iterator(); it.increment(ignored)) {
    const auto name = it->path().filename().string();
    struct stat status {};
    if (is_temp(name) && ::lstat(it->path().c_str(), &status) == 0 &&
        static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1000 < older_than_ms) {
      ::unlink(it->path().c_str());
    }
  }
}

}  // namespace

Sweeper::Sweeper(CacheLayout layout, SweepOptions options,
                 std::shared_ptr<RecordChanges> changes)
    : layout_(std::move(layout)), options_(options), changes_(std::move(changes)) {}

void Sweeper::start_pass(std::int64_t now_ms) {
  ++passes_;
  for (const auto area : kAreas) {
    const auto area_dir = layout_.path_of(area);
    for (const auto& top : subdirectories(area_dir)) {
      for (const auto& leaf : subdirectories(area_dir + "/" + top)) {
        leaves_.push_back(std::string(area) + "/" + top + "/" + leaf);
      }
    }
  }
  remove_old_temp_files(layout_.path_of(kFleetDir), now_ms - options_.orphan_age.count());
}

std::vector<AuditedDir> Sweeper::step(std::size_t budget, std::int64_t now_ms) {
  std::vector<AuditedDir> audited;
  bool started = false;
  while (audited.size() < budget) {
    if (dirs_.empty()) {
      if (leaves_.empty()) {
        // A pass ends with the step it ends in, so that each pass begins with a step.
        if (started || !audited.empty()) break;
        start_pass(now_ms);
        started = true;
        if (leaves_.empty()) break;
        continue;
      }
      const auto leaf = std::move(leaves_.front());
      leaves_.pop_front();
      for (const auto& name : subdirectories(layout_.path_of(leaf))) {
        dirs_.push_back(leaf + "/" + name);
      }
      continue;
    }
    const auto id = std::move(dirs_.front());
    dirs_.pop_front();
    audited.push_back(id.starts_with("uploads/") ? sweep_upload(id, now_ms)
                                                 : sweep_object(id, now_ms));
  }
  return audited;
}

AuditedDir Sweeper::sweep_object(const std::string& id, std::int64_t now_ms) const {
  const auto dir = layout_.path_of(id);
  AuditedDir result{.id = id, .bytes = 0, .record = std::nullopt, .upload = false};
  if (const auto bytes = read_whole_file(dir + "/" + std::string(kRecordFileName))) {
    v1::CacheRecord record;
    if (record.ParseFromString(*bytes) &&
        CacheLayout::object_id(record.bucket(), record.key()) == id) {
      result.record = std::move(record);
    }
  }
  const auto& record = result.record;
  if (record && record->etag().empty() &&
      older_than(record->fetched_at_unix_ms(), options_.tombstone_retention, now_ms)) {
    remove_cache_dir(dir, changes_.get());
    result.record.reset();
    return result;
  }
  std::set<std::string> named;
  if (record) {
    for (const auto& range : record->ranges()) named.insert(range.file());
  }
  bool kept_any = false;
  for (const auto& file : files_of(dir)) {
    const bool orphan = is_temp(file.name) ||
                        (file.name != kRecordFileName && !named.contains(file.name)) ||
                        (file.name == kRecordFileName && !record);  // unreadable or foreign
    if (orphan && older_than(file.mtime_ms, options_.orphan_age, now_ms)) {
      ::unlink((dir + "/" + file.name).c_str());
    } else {
      kept_any = true;
    }
  }
  if (!kept_any) ::rmdir(dir.c_str());
  result.bytes = directory_disk_usage(dir);
  return result;
}

AuditedDir Sweeper::sweep_upload(const std::string& id, std::int64_t now_ms) const {
  const auto dir = layout_.path_of(id);
  std::int64_t newest_ms = 0;
  for (const auto& file : files_of(dir)) {
    if (is_temp(file.name) && older_than(file.mtime_ms, options_.orphan_age, now_ms)) {
      ::unlink((dir + "/" + file.name).c_str());
    } else {
      newest_ms = std::max(newest_ms, file.mtime_ms);
    }
  }
  if (older_than(newest_ms, options_.upload_retention, now_ms)) {
    remove_cache_dir(dir, changes_.get());
  }
  return {.id = id, .bytes = directory_disk_usage(dir), .record = std::nullopt, .upload = true};
}

}  // namespace s3hc::cache
