// The body of a DeleteObjects request (POST /bucket?delete): which keys it deletes, so the
// cache can drop them. Pure function; any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3hc::s3 {

// The most objects one DeleteObjects request may name, in S3's API reference.
inline constexpr std::size_t kMaxObjectsPerDelete = 1000;

// The keys of
//   <Delete [xmlns="http://s3.amazonaws.com/doc/2006-03-01/"]><Quiet>true</Quiet>
//     <Object><Key>k</Key><VersionId>v</VersionId></Object>...</Delete>
// in document order, entities decoded and text kept exactly: keys may begin or end with spaces.
// Quiet and the children of Object besides Key (VersionId, ETag, ...) are not looked at: deleting
// any version of a key may change what a read of the key returns.
// nullopt when the XML is malformed (see parse_xml_document), the root is not Delete, an
// Object has no Key or several, or there are no objects or more than kMaxObjectsPerDelete.
std::optional<std::vector<std::string>> parse_delete_objects(std::string_view body);

}  // namespace s3hc::s3
