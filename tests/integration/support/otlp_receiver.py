"""A stand-in OTLP/HTTP metrics collector on 127.0.0.1, for tests of the proxy's OTLP export.

Usage:
    receiver = OtlpReceiver().start()            # answers 200 to every export
    receiver = OtlpReceiver(statuses=[503]).start()   # 503 to the first POST, 200 after
    receiver = OtlpReceiver(stall=True).start()  # reads each POST and never answers
    receiver.url                                 # "http://127.0.0.1:P" (no path: the proxy adds
                                                 # /v1/metrics)
    receiver.exports                             # every POST received, oldest first: Export
    receiver.wait_for_exports(n, timeout)        # the first n, once they are there
    receiver.close()                             # also ends stalled POSTs (closed unanswered)

Every body is decoded with the official OTLP definitions (the opentelemetry-proto package):
google.protobuf.json_format.Parse into an ExportMetricsServiceRequest, strict (an unknown field
fails). A POST that does not decode, or not to /v1/metrics as application/json, is answered
400 and kept as an Export whose `error` says why.
"""

import dataclasses
import http.server
import threading
import time

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from .processes import StartStopContext

EXPORT_PATH = "/v1/metrics"


@dataclasses.dataclass
class Export:
    received: float      # time.monotonic() when the body had arrived
    path: str
    headers: dict
    request: ExportMetricsServiceRequest = None  # None when it did not decode
    error: str = None


class OtlpReceiver(StartStopContext):
    def __init__(self, statuses=(), stall=False):
        self.statuses = list(statuses)  # answers to the first POSTs; 200 once used up
        self.stall = stall
        self.exports = []
        self._changed = threading.Condition()
        self._released = threading.Event()  # ends stalls
        self._server = None
        self._thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                export = receiver._decode(self.path, dict(self.headers), body)
                with receiver._changed:
                    receiver.exports.append(export)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver._changed.notify_all()
                if receiver.stall:
                    receiver._released.wait()
                    self.close_connection = True
                    return
                if export.error:
                    status = 400
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self):
        self._released.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for_exports(self, count, timeout):
        """The first `count` exports, once received; raises TimeoutError if they do not come."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.exports) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.exports)} of {count} OTLP exports received "
                                       f"in {timeout} s")
                self._changed.wait(left)
            return list(self.exports[:count])

    @staticmethod
    def _decode(path, headers, body):
        export = Export(received=time.monotonic(), path=path, headers=headers)
        if path != EXPORT_PATH:
            export.error = f"POST to {path}, not {EXPORT_PATH}"
        elif headers.get("Content-Type") != "application/json":
            export.error = f"Content-Type {headers.get('Content-Type')!r}"
        else:
            try:
                export.request = json_format.Parse(body, ExportMetricsServiceRequest())
            except json_format.ParseError as error:
                export.error = f"not an ExportMetricsServiceRequest: {error}"
        return export
