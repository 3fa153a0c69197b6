// Multipart uploads through the proxy, on the shared directory beside the objects:
//   <root>/uploads/<h0h1>/<h2h3>/<hash'>/upload            what CreateMultipartUpload said
//   <root>/uploads/<h0h1>/<h2h3>/<hash'>/part-<n>-<etag>.rng each part, as UploadPart wrote it
// CreateMultipartUpload's metadata headers are kept with the upload, each part is written as
// it streams and kept under its number and ETag, and CompleteMultipartUpload makes the parts
// it names the object's bytes, in order (ObjectStore::adopt). An upload that went partly past
// the cache (its start or a part sent through another route, a copied part) is not adopted:
// the object is then left to the next read.
//
// Thread-safety: every method may run concurrently; a part's RangeFill is used by one
// thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/store/object_store.h"
#include "cache/store_observer.h"

namespace s3hc::cache {

class UploadStore {
 public:
  // Completed uploads become objects of `objects`, which must outlive the store. `observer`
  // (may be null) hears of every change of an upload directory's size.
  UploadStore(ObjectStore& objects, StoreObserver* observer)
      : objects_(objects), observer_(observer) {}

  void begin(const s3::ObjectAddress& object, std::string_view upload_id,
             const HeaderList& headers);
  std::unique_ptr<RangeFill> begin_part(const s3::ObjectAddress& object,
                                        std::string_view upload_id, std::uint32_t part_number,
                                        bool compress);
  void commit_part(RangeFill& part, std::uint32_t part_number, std::string_view etag);
  // `meta`: what the completion's answer said (ETag, Last-Modified, ...); size, parts and the
  // headers of the upload are filled in here. nullopt, with the object left as it was, when
  // the upload's start or one of the parts went past the cache or the record holds newer
  // news. The upload's files are removed either way.
  std::optional<v1::CacheRecord> complete(
      const s3::ObjectAddress& object, std::string_view upload_id,
      const std::vector<std::pair<std::uint32_t, std::string>>& parts, ObjectMeta meta,
      std::int64_t now_ms);
  void abort(const s3::ObjectAddress& object, std::string_view upload_id);

 private:
  // Deletes the upload's directory (what is left of it).
  void forget(const s3::ObjectAddress& object, std::string_view upload_id);
  void report(const std::string& dir) const;

  ObjectStore& objects_;
  StoreObserver* observer_;
};

}  // namespace s3hc::cache
