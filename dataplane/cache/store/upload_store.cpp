#include "cache/store/upload_store.h"

#include <unistd.h>
#include <xxhash.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "cache/synced_file.h"
#include "util/errno_error.h"

namespace s3hc::cache {
namespace {

constexpr std::string_view kUploadFileName = "upload";

// A part file's name: its number and its ETag, so a part uploaded again under another ETag
// never stands in for the one the completion names.
std::string part_file_name(std::uint32_t number, std::string_view etag) {
  char name[64];
  std::snprintf(name, sizeof(name), "part-%u-%016llx.rng", number,
                static_cast<unsigned long long>(XXH3_64bits(etag.data(), etag.size())));
  return name;
}

}  // namespace

void UploadStore::begin(const s3::ObjectAddress& object, std::string_view upload_id,
                        const HeaderList& headers) {
  const auto dir = objects_.layout().upload_dir(object.bucket, object.key, upload_id);
  std::filesystem::create_directories(dir);
  v1::CacheRecord upload;
  upload.set_format_version(kRecordFormatVersion);
  upload.set_bucket(object.bucket);
  upload.set_key(object.key);
  for (const auto& [name, value] : headers) {
    auto* header = upload.add_headers();
    header->set_name(name);
    header->set_value(value);
  }
  write_file_atomically(dir + "/" + std::string(kUploadFileName), upload.SerializeAsString());
  report(dir);
}

std::unique_ptr<RangeFill> UploadStore::begin_part(const s3::ObjectAddress& object,
                                                   std::string_view upload_id,
                                                   std::uint32_t part_number,
                                                   bool compress) {
  const auto dir = objects_.layout().upload_dir(object.bucket, object.key, upload_id);
  std::filesystem::create_directories(dir);
  auto file = new_range_file_name(part_number);
  auto path = dir + "/" + file;
  return std::unique_ptr<RangeFill>(new RangeFill(object, ObjectMeta{}, 0, std::move(file),
                                                  std::move(path), objects_.block_size(),
                                                  compress, 0));
}

void UploadStore::commit_part(RangeFill& part, std::uint32_t part_number,
                              std::string_view etag) {
  part.writer_.commit();
  const auto& path = part.path();
  const auto named = path.substr(0, path.rfind('/') + 1) + part_file_name(part_number, etag);
  if (::rename(path.c_str(), named.c_str()) != 0) util::throw_errno("rename " + named);
  report(path.substr(0, path.rfind('/')));
}

std::optional<v1::CacheRecord> UploadStore::complete(
    const s3::ObjectAddress& object, std::string_view upload_id,
    const std::vector<std::pair<std::uint32_t, std::string>>& parts, ObjectMeta meta,
    std::int64_t now_ms) {
  const auto upload_dir = objects_.layout().upload_dir(object.bucket, object.key, upload_id);
  v1::CacheRecord upload;
  const auto upload_file = read_whole_file(upload_dir + "/" + std::string(kUploadFileName));
  if (!upload_file || !upload.ParseFromString(*upload_file) || upload.bucket() != object.bucket ||
      upload.key() != object.key) {
    forget(object, upload_id);
    return std::nullopt;
  }
  std::vector<ObjectStore::AdoptedFile> found;
  std::uint64_t offset = 0;
  for (const auto& [number, etag] : parts) {
    auto path = upload_dir + "/" + part_file_name(number, etag);
    const auto reader = RangeFileReader::open(path);
    if (!reader) {
      forget(object, upload_id);
      return std::nullopt;
    }
    const s3::ByteRange bytes{offset, offset + reader->range().length() - 1};
    found.push_back({std::move(path), bytes});
    meta.parts.push_back({number, bytes});
    offset += bytes.length();
  }
  meta.size = offset;
  meta.parts_count = static_cast<std::uint32_t>(parts.size());
  for (const auto& header : upload.headers())
    meta.headers.emplace_back(header.name(), header.value());
  auto record = objects_.adopt(object, found, meta, now_ms);
  forget(object, upload_id);
  return record;
}

void UploadStore::abort(const s3::ObjectAddress& object, std::string_view upload_id) {
  forget(object, upload_id);
}

void UploadStore::forget(const s3::ObjectAddress& object, std::string_view upload_id) {
  const auto dir = objects_.layout().upload_dir(object.bucket, object.key, upload_id);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  report(dir);
}

void UploadStore::report(const std::string& dir) const {
  if (observer_) report_dir(*observer_, objects_.layout(), dir, nullptr);
}

}  // namespace s3hc::cache
