// What the access log (obs/access_log.h) says of one answered request: its record
// (request_record.h) and its header, in S3's server access log fields. Pure; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <string_view>

#include "http/request_record.h"
#include "obs/access_log_record.h"

namespace s3hc::http {

// Views into `request`, `record` and `remote_ip`, which must outlive the result.
obs::AccessLogRecord access_log_entry(const RequestRecord& record,
                                      const boost::beast::http::request_header<>& request,
                                      std::string_view remote_ip);

}  // namespace s3hc::http
