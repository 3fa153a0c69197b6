// s3hc's dashboard: polls GET /api/dashboard every 2 s and shows it (see index.html).
//
// Every number or value shown is an element with a stable data-field name ("totals.hit_ratio",
// "buckets.<bucket>.requests", "proxies.<id>.state", ...) whose data-value attribute holds the
// raw value of the API (bytes, seconds, ratios as they came); its text is the human form
// (MiB, ms, %). Tests compare data-value with the API and /metrics.
//
// Nothing here throws to the console: a failed or odd answer shows the error banner and keeps
// the last data shown, marked stale.
(function () {
  "use strict";

  var API = "/api/dashboard";
  var POLL_MS = 2000;
  var TIMEOUT_MS = 5000;
  var DASH = "–";

  // ---- formatting --------------------------------------------------------

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function formatBytes(value) {
    if (!isNumber(value)) return DASH;
    var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    var size = Math.abs(value);
    var unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit += 1;
    }
    var sign = value < 0 ? "-" : "";
    if (unit === 0) return sign + size + " B";
    return sign + size.toFixed(size < 10 ? 2 : size < 100 ? 1 : 0) + " " + units[unit];
  }

  function formatCount(value) {
    if (!isNumber(value)) return DASH;
    return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
  }

  function formatPercent(ratio) {
    if (!isNumber(ratio)) return DASH;
    var percent = ratio * 100;
    if (percent > 0 && percent < 0.1) return "<0.1%";
    return percent.toFixed(percent === 0 || percent === 100 ? 0 : 1) + "%";
  }

  function formatMs(seconds) {
    if (!isNumber(seconds)) return DASH;
    var ms = seconds * 1000;
    return ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0) + " ms";
  }

  function formatAgo(ms) {
    if (!isNumber(ms)) return DASH;
    if (ms < 1000) return "just now";
    var s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s ago";
    var min = s / 60;
    if (min < 60) return Math.floor(min) + " min ago";
    var h = min / 60;
    if (h < 48) return Math.floor(h) + " h ago";
    return Math.floor(h / 24) + " d ago";
  }

  function formatText(value) {
    return value === undefined || value === null || value === "" ? DASH : String(value);
  }

  function formatClock(unixMs) {
    if (!isNumber(unixMs)) return "";
    var date = new Date(unixMs);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds());
  }

  // ---- DOM helpers -------------------------------------------------------

  // Sets one data-field element: its text (the human form) and data-value (the raw value; the
  // attribute is removed when the API gave none).
  function setField(element, value, format) {
    if (!element) return;
    element.textContent = (format || formatText)(value);
    if (value === undefined || value === null) {
      element.removeAttribute("data-value");
    } else {
      element.setAttribute("data-value", String(value));
    }
    if (isNumber(value)) element.title = String(value);
  }

  function fieldElement(name) {
    var all = document.querySelectorAll("[data-field]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-field") === name) return all[i];
    }
    return null;
  }

  function make(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // A cell (td, or th for a row's name) holding a data-field value.
  function cell(field, value, format, options) {
    var opts = options || {};
    var element = make(opts.header ? "th" : "td", opts.className || "");
    if (opts.header) element.scope = "row";
    element.setAttribute("data-field", field);
    setField(element, value, format);
    return element;
  }

  function replaceRows(tbody, rows, emptyText, columns) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (rows.length === 0) {
      var row = make("tr");
      var empty = make("td", "empty", emptyText);
      empty.colSpan = columns;
      row.appendChild(empty);
      tbody.appendChild(row);
      return;
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function get(object, key) {
    return object && typeof object === "object" ? object[key] : undefined;
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  // ---- rendering ---------------------------------------------------------

  function renderHeader(data) {
    var scope = data.scope === "proxy" ? "proxy" : "fleet";
    var title = "s3hc " + scope;
    if (document.title !== title) document.title = title;
    var h1 = document.getElementById("title");
    h1.textContent = title;
    h1.setAttribute("data-field", "scope");
    h1.setAttribute("data-value", formatText(data.scope));
    var proxies = list(data.proxies);
    var up = proxies.filter(function (p) { return get(p, "state") === "up"; }).length;
    var note = scope === "fleet"
      ? up + " of " + proxies.length + " proxies up"
      : (proxies.length ? formatText(get(proxies[0], "id")) : "");
    document.getElementById("scope-note").textContent = note;
    var updated = document.getElementById("updated");
    updated.setAttribute("data-field", "generated_unix_ms");
    updated.setAttribute("data-value", formatText(data.generated_unix_ms));
    updated.textContent = isNumber(data.generated_unix_ms)
      ? "updated " + formatClock(data.generated_unix_ms) : "updated";
  }

  var TOTALS = {
    requests: formatCount, hits: formatCount, hit_ratio: formatPercent,
    sent_bytes: formatBytes, saved_bytes: formatBytes, origin_bytes: formatBytes,
    written_bytes: formatBytes, cache_size_bytes: formatBytes,
    cache_capacity_bytes: function (value) {
      return value === 0 ? "unlimited" : formatBytes(value);
    },
    open_connections: formatCount, requests_in_flight: formatCount
  };

  function renderTotals(data) {
    var totals = data.totals || {};
    Object.keys(TOTALS).forEach(function (key) {
      setField(fieldElement("totals." + key), get(totals, key), TOTALS[key]);
    });
    setField(fieldElement("policy_version"), data.policy_version, formatCount);

    var size = get(totals, "cache_size_bytes");
    var capacity = get(totals, "cache_capacity_bytes");
    var bar = document.getElementById("cache-bar");
    var fill = document.getElementById("cache-bar-fill");
    var percentNote = document.getElementById("cache-percent");
    if (isNumber(size) && isNumber(capacity) && capacity > 0) {
      var ratio = size / capacity;
      var shown = Math.max(0, Math.min(1, ratio));
      fill.style.width = (shown * 100).toFixed(2) + "%";
      fill.className = "bar-fill" + (ratio >= 0.95 ? " full" : ratio >= 0.8 ? " high" : "");
      bar.setAttribute("aria-valuenow", (ratio * 100).toFixed(1));
      bar.setAttribute("aria-valuetext", formatPercent(ratio) + " full");
      bar.hidden = false;
      percentNote.textContent = "(" + formatPercent(ratio) + ")";
    } else {
      fill.style.width = "0";
      bar.removeAttribute("aria-valuenow");
      bar.hidden = true;
      percentNote.textContent = "";
    }
  }

  function renderLatency(data) {
    var latency = data.latency_seconds || {};
    ["first_byte", "total"].forEach(function (kind) {
      ["p50", "p95", "p99"].forEach(function (q) {
        setField(fieldElement("latency_seconds." + kind + "." + q), get(get(latency, kind), q),
                 formatMs);
      });
    });
  }

  function renderProxies(data) {
    var proxies = list(data.proxies);
    setField(fieldElement("proxies.length"), proxies.length, function (n) { return "(" + n + ")"; });
    var rows = proxies.map(function (proxy) {
      var id = formatText(get(proxy, "id"));
      var prefix = "proxies." + id + ".";
      var state = get(proxy, "state");
      var row = make("tr", state === "up" ? "state-up" : "state-" + (state === "lost" ? "lost" : "other"));
      row.appendChild(cell(prefix + "id", get(proxy, "id"), null, { header: true, className: "name" }));
      var stateCell = cell(prefix + "state", state);
      stateCell.textContent = "";
      stateCell.appendChild(make("span", "badge " + (state === "up" ? "ok" : "bad"), formatText(state)));
      row.appendChild(stateCell);
      var health = get(proxy, "health");
      row.appendChild(cell(prefix + "health", health, null,
                           { className: health === "ok" || health === undefined ? "" : "warn-text" }));
      row.appendChild(cell(prefix + "version", get(proxy, "version")));
      row.appendChild(cell(prefix + "listen", get(proxy, "listen"), null, { className: "mono" }));
      var version = get(proxy, "policy_version");
      var behind = isNumber(version) && isNumber(data.policy_version) && version !== data.policy_version;
      var policyCell = cell(prefix + "policy_version", version, formatCount,
                            { className: "num" + (behind ? " warn-text" : "") });
      if (behind) policyCell.title = "the fleet's policy is version " + data.policy_version;
      row.appendChild(policyCell);
      row.appendChild(cell(prefix + "last_seen_ms_ago", get(proxy, "last_seen_ms_ago"), formatAgo,
                           { className: "num" }));
      return row;
    });
    replaceRows(document.querySelector("#proxies tbody"), rows, "no proxy registered", 7);
    var behindCount = proxies.filter(function (p) {
      return isNumber(get(p, "policy_version")) && get(p, "policy_version") !== data.policy_version;
    }).length;
    document.getElementById("policy-note").textContent =
      behindCount ? behindCount + (behindCount === 1 ? " proxy" : " proxies") + " not on it yet" : "in force";
  }

  function renderBuckets(data) {
    var buckets = list(data.buckets);
    setField(fieldElement("buckets.length"), buckets.length, function (n) { return "(" + n + ")"; });
    var rows = buckets.map(function (bucket) {
      var name = formatText(get(bucket, "bucket"));
      var prefix = "buckets." + name + ".";
      var row = make("tr");
      row.appendChild(cell(prefix + "bucket", get(bucket, "bucket"), null, { header: true, className: "name" }));
      row.appendChild(cell(prefix + "requests", get(bucket, "requests"), formatCount, { className: "num" }));
      row.appendChild(cell(prefix + "hits", get(bucket, "hits"), formatCount, { className: "num" }));
      var requests = get(bucket, "requests");
      var hits = get(bucket, "hits");
      row.appendChild(make("td", "num", isNumber(requests) && isNumber(hits) && requests > 0
                                         ? formatPercent(hits / requests) : DASH));
      row.appendChild(cell(prefix + "sent_bytes", get(bucket, "sent_bytes"), formatBytes, { className: "num" }));
      row.appendChild(cell(prefix + "saved_bytes", get(bucket, "saved_bytes"), formatBytes, { className: "num" }));
      row.appendChild(cell(prefix + "origin_bytes", get(bucket, "origin_bytes"), formatBytes, { className: "num" }));
      return row;
    });
    replaceRows(document.querySelector("#buckets tbody"), rows, "no request yet", 7);
  }

  function renderErrors(data) {
    var errors = list(data.errors);
    setField(fieldElement("errors.length"), errors.length, function (n) { return "(" + n + ")"; });
    var ul = document.getElementById("errors");
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    if (errors.length === 0) {
      ul.appendChild(make("li", "empty", "none"));
      return;
    }
    errors.forEach(function (error) {
      var metric = formatText(get(error, "metric"));
      var labels = get(error, "labels");
      var key = "errors." + metric + (labels ? "{" + labels + "}" : "") + ".";
      var li = make("li");
      var count = make("span", "error-count");
      count.setAttribute("data-field", key + "count");
      setField(count, get(error, "count"), formatCount);
      var name = make("code");
      name.setAttribute("data-field", key + "metric");
      setField(name, get(error, "metric"));
      li.appendChild(count);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(name);
      if (labels) {
        var labelText = make("code", "labels");
        labelText.setAttribute("data-field", key + "labels");
        setField(labelText, labels);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(labelText);
      }
      ul.appendChild(li);
    });
  }

  function render(data) {
    renderHeader(data);
    renderTotals(data);
    renderLatency(data);
    renderProxies(data);
    renderBuckets(data);
    renderErrors(data);
  }

  // ---- polling -----------------------------------------------------------

  var lastGood = null;  // Date.now() of the last answer shown

  function showError(message) {
    var banner = document.getElementById("error-banner");
    var text = "Cannot load " + API + ": " + message + ".";
    if (lastGood !== null) {
      text += " The figures shown are from " + formatClock(lastGood) + ".";
      document.body.classList.add("stale");
    }
    banner.textContent = text;
    banner.hidden = false;
  }

  function clearError() {
    var banner = document.getElementById("error-banner");
    banner.hidden = true;
    banner.textContent = "";
    document.body.classList.remove("stale");
  }

  function fetchDashboard() {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return fetch(API, {
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status + (response.statusText ? " " + response.statusText : ""));
      }
      return response.json().catch(function () {
        throw new Error("the answer is not JSON");
      });
    }).then(function (data) {
      if (!data || typeof data !== "object" || Array.isArray(data)) {
        throw new Error("the answer is not a JSON object");
      }
      return data;
    }, function (error) {
      if (error && error.name === "AbortError") {
        throw new Error("no answer within " + TIMEOUT_MS / 1000 + " s");
      }
      throw error instanceof Error && /^(HTTP |the answer)/.test(error.message)
        ? error : new Error("the request failed (" + ((error && error.message) || "network error") + ")");
    }).finally(function () {
      if (timer) clearTimeout(timer);
    });
  }

  function poll() {
    var next = function () { setTimeout(poll, POLL_MS); };
    try {
      fetchDashboard().then(function (data) {
        try {
          render(data);
          lastGood = Date.now();
          clearError();
        } catch (error) {
          showError("the answer could not be shown (" + ((error && error.message) || error) + ")");
        }
      }, function (error) {
        showError((error && error.message) || String(error));
      }).then(next, next);
    } catch (error) {
      showError((error && error.message) || String(error));
      next();
    }
  }

  function start() {
    try {
      poll();
    } catch (error) {
      // Never reached in a browser that has fetch; the page stays as it is.
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
