// Drives the gateway's client page in headless Chromium (Debian's, no download) for
// the browser tests in tests/tests/browser.rs. Protocol on stdin/stdout, one line each:
//   started with: node run.mjs <gateway base URL> <token> [cross-origin]
//   prints "ready" once both the SSE and the WebSocket client are live;
//   reads "wait <n>": prints {"sse": [...], "ws": [...]} once each has n events;
//   reads "foreign": from a page on an origin the gateway does not allow, tries to get
//     a ticket and prints {"blocked": true} if the browser refused the answer;
//   reads "second": opens the same page again (the same member) and prints
//     {"history": [...]} once its SSE client is live, through whatever it fell back to;
//   reads "wait-second <n>": prints that page's SSE client's events once it has n;
//   reads "quit": closes the browser.
// With `cross-origin`, the names page.test, api.test, sse.test, ws.test and
// foreign.test all resolve to the gateway, and the page on page.test talks to the API,
// the stream and the socket on the other three: four origins, as on AWS.
import { chromium } from "playwright-core";
import readline from "node:readline";

const [base, token, mode] = process.argv.slice(2);
const crossOrigin = mode === "cross-origin";
const port = new URL(base).port;
const hosts = ["page", "api", "sse", "ws", "foreign"].map((h) => `MAP ${h}.test 127.0.0.1`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [...(crossOrigin ? [`--host-resolver-rules=${hosts.join(",")}`] : []),
         "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         // Reconnection timers must fire on time in a page nobody looks at.
         "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
         "--disable-backgrounding-occluded-windows", "--disable-features=IntensiveWakeUpThrottling"],
});
const page = await browser.newPage();
page.on("pageerror", (e) => console.error(`page error: ${e}`));
const at = (host) => `http://${host}.test:${port}`;
const where = crossOrigin
  ? `${at("page")}/client/#` + new URLSearchParams({ token, fast: "", api: at("api"),
      sse: `${at("sse")}/sse/events`, ws: `ws://ws.test:${port}/ws` })
  : `${base}/client/#token=${encodeURIComponent(token)}&fast`;
await page.goto(where);
await page.waitForFunction(
  () => window.pitchside && window.pitchside.status.sse === "live" && window.pitchside.status.ws === "live",
  null, { timeout: 20000, polling: 100 });
console.log("ready");

let second = null;

// One command at a time, in the order they come.
let queue = Promise.resolve();
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  queue = queue.then(() => command(line.trim().split(" ")));
});
rl.on("close", () => queue.then(() => browser.close()));

async function command([cmd, arg]) {
  if (cmd === "wait") {
    const n = Number(arg);
    try {
      await page.waitForFunction((n) => window.pitchside.sse.length >= n && window.pitchside.ws.length >= n,
        n, { timeout: 30000, polling: 100 });
    } catch (e) {
      console.error(`waiting for ${n} events: ${e.message}`);
    }
    const got = await page.evaluate(() => ({ sse: window.pitchside.sse, ws: window.pitchside.ws }));
    console.log(JSON.stringify(got));
  } else if (cmd === "second") {
    second = await browser.newPage();
    second.on("pageerror", (e) => console.error(`second page error: ${e}`));
    await second.goto(where);
    try {
      await second.waitForFunction(() => window.pitchside && window.pitchside.status.sse === "live",
        null, { timeout: 20000, polling: 100 });
    } catch (e) {
      console.error(`the second page: ${e.message}`);
    }
    console.log(JSON.stringify({ history: await second.evaluate(() => window.pitchside.history.sse) }));
  } else if (cmd === "wait-second") {
    const n = Number(arg);
    try {
      await second.waitForFunction((n) => window.pitchside.sse.length >= n, n, { timeout: 30000, polling: 100 });
    } catch (e) {
      console.error(`waiting for ${n} events on the second page: ${e.message}`);
    }
    console.log(JSON.stringify(await second.evaluate(() => window.pitchside.sse)));
  } else if (cmd === "foreign") {
    const other = await browser.newPage();
    await other.goto(`${at("foreign")}/healthz`);
    const blocked = await other.evaluate(async ([api, token]) => {
      try {
        await fetch(`${api}/auth/ticket`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
        return false;
      } catch (e) {
        return e instanceof TypeError;
      }
    }, [at("api"), token]);
    await other.close();
    console.log(JSON.stringify({ blocked }));
  } else if (cmd === "quit") {
    rl.close();
  }
}
