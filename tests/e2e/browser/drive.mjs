// Drives the official posthog-js SDK in Debian's Chromium against a Hedgerow server.
//
// Reads a JSON scenario on stdin:
//   {"api_host": "http://127.0.0.1:PORT", "token": "phc_...", "steps": [ ... ], "init": {...},
//    "body": "<optional page body HTML>"}
// serves a page from its own origin (another port: the SDK posts cross-origin, as on a real
// site), runs the steps in the page, waits until every request to the API host has been
// answered, and prints {"requests": [...], "results": [...], "console": [...]} on stdout.
//
// Steps: {"do": "capture", "event", "properties"}, {"do": "identify", "distinct_id", "set"},
// {"do": "alias", "alias"}, {"do": "group", "type", "key", "set"}, {"do": "click", "selector"},
// {"do": "flag", "key"} (records getFeatureFlag), {"do": "reloadFlags"}, {"do": "wait", "ms"},
// {"do": "reset"}, {"do": "distinctId"} (records get_distinct_id()).
import http from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const sdkPath = require.resolve("posthog-js/dist/array.full.js");

const scenario = JSON.parse(readFileSync(0, "utf8"));
const page_html = `<!doctype html><html><head><title>shop</title>
<script src="/posthog.js"></script></head>
<body>${scenario.body ?? `<h1>Shop</h1><button id="buy" class="buy-button" data-attr="buy">Buy now</button>
<a id="docs" href="#docs">Docs</a>`}</body></html>`;

const server = http.createServer((req, res) => {
  if (req.url.startsWith("/posthog.js")) {
    res.writeHead(200, { "content-type": "application/javascript" });
    res.end(readFileSync(sdkPath));
  } else {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(page_html);
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const requests = [];
const pending = new Set();
const consoleLines = [];
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on("request", (req) => {
    if (req.url().startsWith(scenario.api_host)) pending.add(req);
  });
  const finish = async (req, failure) => {
    if (!pending.has(req)) return;
    pending.delete(req);
    const response = failure ? null : await req.response();
    requests.push({
      method: req.method(),
      url: req.url(),
      status: response ? response.status() : 0,
      failure: failure ? (req.failure() || {}).errorText || "failed" : null,
      content_type: req.headers()["content-type"] || null,
    });
  };
  let flagsAnswered = 0;
  page.on("requestfinished", (req) => {
    if (req.url().includes("/flags")) flagsAnswered += 1;
    finish(req, false);
  });
  page.on("requestfailed", (req) => finish(req, true));

  await page.goto(pageUrl);
  const init = {
    api_host: scenario.api_host,
    opt_out_useragent_filter: true,
    capture_pageview: true,
    capture_pageleave: true,
    autocapture: true,
    disable_session_recording: true,
    ...(scenario.init || {}),
  };
  await page.evaluate(({ token, init }) => {
    window.__results = [];
    window.posthog.init(token, init);
  }, { token: scenario.token, init });

  for (const step of scenario.steps || []) {
    if (step.do === "click") {
      await page.click(step.selector);
      continue;
    }
    if (step.do === "wait") {
      await page.waitForTimeout(step.ms || 100);
      continue;
    }
    if (step.do === "reloadFlags") {
      // wait for a /flags answer that comes after this point, then let the SDK apply it
      const before = flagsAnswered;
      await page.evaluate(() => window.posthog.reloadFeatureFlags());
      const deadline = Date.now() + 10000;
      while (flagsAnswered <= before && Date.now() < deadline) await page.waitForTimeout(20);
      await page.waitForTimeout(100);
      continue;
    }
    await page.evaluate(async (step) => {
      const ph = window.posthog;
      const record = (value) => window.__results.push({ step: step.do, key: step.key, value });
      switch (step.do) {
        case "capture": ph.capture(step.event, step.properties || {}); break;
        case "identify": ph.identify(step.distinct_id, step.set || {}, step.set_once || {}); break;
        case "alias": ph.alias(step.alias); break;
        case "group": ph.group(step.type, step.key, step.set || {}); break;
        case "reset": ph.reset(); break;
        case "distinctId": record(ph.get_distinct_id()); break;
        case "flag":
          await new Promise((resolve) => ph.onFeatureFlags(() => resolve()));
          record({ value: ph.getFeatureFlag(step.key) ?? null, payload: ph.getFeatureFlagPayload(step.key) ?? null });
          break;
      }
    }, step);
  }
  // Let the SDK flush its queue (batched sends go out on a 3 s timer, which a loaded machine
  // runs late: 3.5 s once lost an autocapture), then wait for the answers.
  await page.waitForTimeout(scenario.settle_ms ?? 5000);
  const deadline = Date.now() + 15000;
  while (pending.size && Date.now() < deadline) await page.waitForTimeout(50);
  const results = await page.evaluate(() => window.__results);
  process.stdout.write(JSON.stringify({ requests, results, console: consoleLines }));
} finally {
  await browser.close();
  server.close();
}
