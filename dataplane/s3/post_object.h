// The object key of a PostObject request (an HTML form upload: POST /bucket with a
// multipart/form-data body whose "key" field names the object, "${filename}" standing for the
// uploaded file's name). The form fields come before the file, so the start of the body
// suffices. Pure function; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace s3hc::s3 {

// `content_type`: the request's Content-Type; `body_start`: the first bytes of its body.
// nullopt when it is not a form upload or the key is not within `body_start`.
std::optional<std::string> post_object_key(std::string_view content_type,
                                           std::string_view body_start);

}  // namespace s3hc::s3
