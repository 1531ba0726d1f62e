// Drives the gateway's client page in headless Chromium (Debian's, no download) for
// the browser test in tests/tests/browser.rs. Protocol on stdin/stdout, one line each:
//   started with: node run.mjs <gateway base URL> <token>
//   prints "ready" once both the SSE and the WebSocket client are live;
//   reads "wait <n>": prints {"sse": [...], "ws": [...]} once each has n events;
//   reads "quit": closes the browser.
import { chromium } from "playwright-core";
import readline from "node:readline";

const [base, token] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         // Reconnection timers must fire on time in a page nobody looks at.
         "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
         "--disable-backgrounding-occluded-windows", "--disable-features=IntensiveWakeUpThrottling"],
});
const page = await browser.newPage();
page.on("pageerror", (e) => console.error(`page error: ${e}`));
await page.goto(`${base}/client/#token=${encodeURIComponent(token)}&fast`);
await page.waitForFunction(
  () => window.pitchside && window.pitchside.status.sse === "live" && window.pitchside.status.ws === "live",
  null, { timeout: 20000, polling: 100 });
console.log("ready");

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
  } else if (cmd === "quit") {
    rl.close();
  }
}
