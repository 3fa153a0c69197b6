// The OTLP exporter's schedule against a scripted transport: what is retried, what is counted,
// what each retry sends; the endpoint and the collector's answers as OTLP/HTTP reads them.
// No test waits for a timer to decide its outcome: retries wait 1 ms, intervals are an hour
// where they must not pass.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "obs/otlp_exporter.h"
#include "obs/otlp_http_transport.h"
#include "run_coroutine.h"

namespace s3hc::obs {
namespace {

namespace asio = boost::asio;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const OtlpPostResult kDelivered{.delivered = true, .retryable = false, .what = "HTTP 200"};
const OtlpPostResult kUnavailable{.delivered = false, .retryable = true, .what = "HTTP 503"};
const OtlpPostResult kBadRequest{.delivered = false, .retryable = false, .what = "HTTP 400"};

// Answers each post with the next scripted result (delivered once the script is used up) and
// keeps every body it was given.
class ScriptedTransport final : public OtlpTransport {
 public:
  explicit ScriptedTransport(std::deque<OtlpPostResult> script) : script_(std::move(script)) {}

  asio::awaitable<OtlpPostResult> post(std::string body) override {
    bodies.push_back(std::move(body));
    if (on_post) on_post();
    if (script_.empty()) co_return kDelivered;
    auto result = script_.front();
    script_.pop_front();
    co_return result;
  }
  void cancel() override { ++cancels; }

  std::vector<std::string> bodies;
  std::function<void()> on_post;
  int cancels = 0;

 private:
  std::deque<OtlpPostResult> script_;
};

OtlpExporterOptions options(milliseconds interval = hours(1)) {
  return {.endpoint = parse_otlp_endpoint("http://127.0.0.1:4318"),
          .interval = interval,
          .timeout = milliseconds(1),
          .first_retry_delay = milliseconds(1)};
}

struct ExporterTest : ::testing::Test {
  void make_exporter(std::deque<OtlpPostResult> script, OtlpExporterOptions settings = options()) {
    transport.emplace(std::move(script));
    exporter.emplace(io.get_executor(), registry,
                     OtlpResource{.service_name = "s3hc-proxy",
                                  .service_instance_id = "test:1",
                                  .service_version = "0"},
                     settings, *transport, std::chrono::system_clock::now());
  }

  bool export_until(steady_clock::time_point window_end) {
    return testing::run_coroutine(io, exporter->export_until(window_end));
  }

  // s3hc_otlp_exports_total{result=...} as an export would report it.
  std::uint64_t counter_value(const std::string& result) {
    for (const auto& family : registry.collect()) {
      if (family.name != "s3hc_otlp_exports_total") continue;
      for (const auto& child : family.children) {
        if (child.label_values == std::vector<std::string>{result}) {
          return std::get<std::uint64_t>(child.value);
        }
      }
    }
    return 0;
  }

  // The value of s3hc_otlp_exports_total{result=...} in a body the exporter sent.
  static std::string exported_count(const std::string& body, const std::string& result) {
    const auto request = nlohmann::json::parse(body);
    for (const auto& metric : request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]) {
      if (metric["name"] != "s3hc_otlp_exports_total") continue;
      for (const auto& point : metric["sum"]["dataPoints"]) {
        if (point["attributes"][0]["value"]["stringValue"] == result) return point["asInt"];
      }
    }
    return "absent";
  }

  asio::io_context io;
  MetricsRegistry registry;
  std::optional<ScriptedTransport> transport;
  std::optional<OtlpExporter> exporter;
};

TEST_F(ExporterTest, RetriesARetryableFailureWithAFreshSnapshot) {
  make_exporter({kUnavailable, kUnavailable});
  EXPECT_TRUE(export_until(steady_clock::now() + hours(1)));
  ASSERT_EQ(transport->bodies.size(), 3u);
  EXPECT_EQ(counter_value("error"), 2u);
  EXPECT_EQ(counter_value("ok"), 1u);
  // Each try encodes the registry anew: the last one already counts the two failures.
  EXPECT_EQ(exported_count(transport->bodies[0], "error"), "0");
  EXPECT_EQ(exported_count(transport->bodies[2], "error"), "2");
}

TEST_F(ExporterTest, DoesNotRetryWhatRetryingCannotFix) {
  make_exporter({kBadRequest});
  EXPECT_FALSE(export_until(steady_clock::now() + hours(1)));
  EXPECT_EQ(transport->bodies.size(), 1u);
  EXPECT_EQ(counter_value("error"), 1u);
  EXPECT_EQ(counter_value("ok"), 0u);
}

TEST_F(ExporterTest, GivesUpWhenNoRetryCanEndBeforeTheNextExport) {
  make_exporter({kUnavailable});
  EXPECT_FALSE(export_until(steady_clock::now()));
  EXPECT_EQ(transport->bodies.size(), 1u);
  EXPECT_EQ(counter_value("error"), 1u);
}

TEST_F(ExporterTest, StoppedBeforeItsFirstIntervalItExportsOnce) {
  make_exporter({});
  exporter->stop();
  testing::run_coroutine(io, [this]() -> asio::awaitable<bool> {
    co_await exporter->run();
    co_return true;
  }());
  EXPECT_EQ(transport->bodies.size(), 1u);
  EXPECT_EQ(counter_value("ok"), 1u);
  EXPECT_EQ(transport->cancels, 1);
}

TEST_F(ExporterTest, StoppedWhileExportingItStillSendsTheLastCounts) {
  // Exports every millisecond until the first post asks it to stop: then one final export.
  make_exporter({}, options(milliseconds(1)));
  transport->on_post = [this] {
    if (transport->bodies.size() == 1) exporter->stop();
  };
  testing::run_coroutine(io, [this]() -> asio::awaitable<bool> {
    co_await exporter->run();
    co_return true;
  }());
  ASSERT_EQ(transport->bodies.size(), 2u);
  EXPECT_EQ(exported_count(transport->bodies[1], "ok"), "1");
}

TEST(OtlpEndpointTest, DefaultsThePathToTheOtlpHttpOne) {
  const auto url = parse_otlp_endpoint("http://collector:4318");
  ASSERT_TRUE(url);
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "collector");
  EXPECT_EQ(url->port, 4318);
  EXPECT_EQ(url->path, "/v1/metrics");
  EXPECT_EQ(parse_otlp_endpoint("http://collector:4318/")->path, "/v1/metrics");
  EXPECT_EQ(parse_otlp_endpoint("http://collector/otlp/v1/metrics")->path, "/otlp/v1/metrics");
  EXPECT_EQ(parse_otlp_endpoint("http://collector")->port, 80);
}

TEST(OtlpEndpointTest, EmptyIsNoExport) { EXPECT_FALSE(parse_otlp_endpoint("")); }

TEST(OtlpEndpointTest, RefusesHttpsAndMalformedUrls) {
  for (const char* text : {"https://collector:4318", "collector:4318", "http://collector?x=1"}) {
    EXPECT_THROW(parse_otlp_endpoint(text), std::invalid_argument) << text;
  }
}

TEST(OtlpRetryTest, WaitsDoubleEachTimeWhileTheRetryEndsBeforeTheNextExport) {
  OtlpExporterOptions settings;
  settings.first_retry_delay = milliseconds(1000);
  settings.timeout = milliseconds(5000);
  const auto now = steady_clock::now();
  const auto next_export = now + milliseconds(10000);
  EXPECT_EQ(retry_delay(0, settings, now, next_export), milliseconds(1000));
  EXPECT_EQ(retry_delay(1, settings, now, next_export), milliseconds(2000));
  EXPECT_EQ(retry_delay(2, settings, now, next_export), milliseconds(4000));
  EXPECT_EQ(retry_delay(3, settings, now, next_export), std::nullopt);  // 8 s + 5 s > 10 s
  EXPECT_EQ(retry_delay(0, settings, now + milliseconds(4001), next_export), std::nullopt);
  // The doubling stops somewhere (no overflow however many attempts).
  const auto far = now + hours(24 * 365);
  EXPECT_EQ(retry_delay(1000, settings, now, far), retry_delay(20, settings, now, far));
}

TEST(OtlpAnswerTest, ClassifiesStatusesAsOtlpHttpDoes) {
  for (const unsigned status : {200u, 202u, 204u}) {
    EXPECT_TRUE(result_of_status(status).delivered) << status;
  }
  for (const unsigned status : {429u, 502u, 503u, 504u}) {
    const auto result = result_of_status(status);
    EXPECT_FALSE(result.delivered) << status;
    EXPECT_TRUE(result.retryable) << status;
  }
  for (const unsigned status : {400u, 401u, 404u, 413u, 500u}) {
    const auto result = result_of_status(status);
    EXPECT_FALSE(result.delivered) << status;
    EXPECT_FALSE(result.retryable) << status;
  }
  EXPECT_EQ(result_of_status(503).what, "HTTP 503");
}

}  // namespace
}  // namespace s3hc::obs
