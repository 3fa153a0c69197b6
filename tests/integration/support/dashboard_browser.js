#!/usr/bin/env node
// Loads a page of s3hc's dashboard in Debian's headless Chromium (driven by playwright-core,
// tests/integration/package.json), waits until it has rendered data, and prints one JSON object:
//
//   {"title": "s3hc fleet",
//    "fields": {"totals.hit_ratio": "0.75", "proxies.proxy-a.state": "up", ...},  // data-field: data-value
//    "texts": {"totals.hit_ratio": "75.0%", ...},                                  // data-field: shown text
//    "classes": {"proxies.proxy-b.state": "state-lost", ...},  // the classes of the field's row (tr),
//                                                              // else of the element itself
//    "banner": null | "Cannot load /api/dashboard: HTTP 500 ...",   // the visible error banner
//    "console_errors": ["console.error: ...", "pageerror: ...", ...],  // errors and warnings
//    "failed_requests": ["GET http://... net::ERR_..."],
//    "error": null | "what went wrong (timeout waiting for ...)"}
//
// and saves a full-page screenshot. Exit status 0 when the page rendered; 2 when it did not in
// time (the JSON and the screenshot are still written, with "error" set); 1 on a usage error or
// when Chromium could not be started.
//
// Usage: node dashboard_browser.js URL SCREENSHOT.png [--wait-for SELECTOR] [--timeout-ms N]
//        [--settle-ms N] [--chromium PATH]
//   --wait-for: a CSS selector to wait for (attached); default: rendered data, i.e.
//               [data-field="totals.requests"][data-value]. "banner" waits for the error banner.
//   --settle-ms: then waits that long (e.g. for one more poll), default 0.
"use strict";

const DEFAULT_WAIT = '[data-field="totals.requests"][data-value]';
const BANNER = "#error-banner:not([hidden])";
// Chromium as root needs --no-sandbox; the rest keep it off the (closed) network and quiet.
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];

function parseArgs(argv) {
  const options = { waitFor: DEFAULT_WAIT, timeoutMs: 20000, settleMs: 0,
                    chromium: process.env.S3HC_CHROMIUM || "/usr/bin/chromium" };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--wait-for") options.waitFor = value();
    else if (arg === "--timeout-ms") options.timeoutMs = Number(value());
    else if (arg === "--settle-ms") options.settleMs = Number(value());
    else if (arg === "--chromium") options.chromium = value();
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 2) throw new Error("expected URL and SCREENSHOT arguments");
  if (options.waitFor === "banner") options.waitFor = BANNER;
  [options.url, options.screenshot] = positional;
  return options;
}

// What the page shows, read inside it.
function readPage(bannerSelector) {
  const fields = {}, texts = {}, classes = {};
  for (const element of document.querySelectorAll("[data-field]")) {
    const name = element.getAttribute("data-field");
    if (element.hasAttribute("data-value")) fields[name] = element.getAttribute("data-value");
    texts[name] = element.textContent.trim();
    const row = element.closest("tr");
    classes[name] = ((row ? row.className + " " : "") + element.className).trim();
  }
  const banner = document.querySelector(bannerSelector);
  return { title: document.title, fields, texts, classes,
           banner: banner ? banner.textContent.trim() : null };
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`dashboard_browser.js: ${error.message}\n`);
    return 1;
  }
  let chromium;
  try {
    ({ chromium } = require("playwright-core"));
  } catch (error) {
    process.stderr.write("dashboard_browser.js: playwright-core is not installed " +
                         "(npm ci --prefix tests/integration)\n");
    return 1;
  }
  const consoleErrors = [];
  const failedRequests = [];
  let browser;
  try {
    browser = await chromium.launch({ executablePath: options.chromium, headless: true,
                                      args: CHROMIUM_ARGS });
  } catch (error) {
    process.stderr.write(`dashboard_browser.js: cannot start ${options.chromium}: ${error.message}\n`);
    return 1;
  }
  const result = { title: null, fields: {}, texts: {}, classes: {}, banner: null,
                   console_errors: consoleErrors, failed_requests: failedRequests, error: null };
  let status = 0;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (message) => {
      const type = message.type();
      if (type === "error" || type === "warning") {
        const where = message.location();
        const at = where && where.url ? ` (${where.url}:${where.lineNumber})` : "";
        consoleErrors.push(`console.${type}: ${message.text()}${at}`);
      }
    });
    page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
    page.on("requestfailed", (request) => {
      const failure = request.failure();
      failedRequests.push(`${request.method()} ${request.url()} ${failure ? failure.errorText : ""}`.trim());
    });
    try {
      const answer = await page.goto(options.url, { waitUntil: "load", timeout: options.timeoutMs });
      if (answer && !answer.ok()) throw new Error(`${options.url} answered HTTP ${answer.status()}`);
      await page.waitForSelector(options.waitFor, { state: "attached", timeout: options.timeoutMs });
      if (options.settleMs > 0) await page.waitForTimeout(options.settleMs);
    } catch (error) {
      result.error = error.message.split("\n")[0];
      status = 2;
    }
    try {
      Object.assign(result, await page.evaluate(readPage, BANNER));
    } catch (error) {
      result.error = result.error || `cannot read the page: ${error.message.split("\n")[0]}`;
      status = 2;
    }
    try {
      await page.screenshot({ path: options.screenshot, fullPage: true });
    } catch (error) {
      result.error = result.error || `cannot save the screenshot: ${error.message.split("\n")[0]}`;
      status = 2;
    }
  } finally {
    await browser.close().catch(() => {});
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  return status;
}

main().then((status) => { process.exitCode = status; }, (error) => {
  process.stderr.write(`dashboard_browser.js: ${error && error.stack || error}\n`);
  process.exitCode = 1;
});
