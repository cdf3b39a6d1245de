// Shared by the page test and the browser benchmark: serves web/ on 127.0.0.1 with
// Python's static server (as the README does) and starts the system Chromium headless
// through playwright-core. Never downloads a browser.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = path.resolve(WEB_DIR, "..");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Starts `python3 -m http.server` on a free port; resolves to {url, stop}. */
export function serve(dir = WEB_DIR) {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`http.server did not start: ${out}`));
    }, 15000);
    const onData = (d) => {
      out += d;
      const m = out.match(/port (\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `http://127.0.0.1:${m[1]}/`, stop: () => child.kill() });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
  });
}

/** Headless system Chromium with a fresh profile; resolves to {browser, close}. */
export async function launch() {
  const profile = mkdtempSync(path.join(tmpdir(), "quantnas-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context: browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the page finished run number `n` (or failed it); returns the state. */
export async function waitForRun(page, n, timeout = 180000) {
  await page.waitForFunction(
    (k) => Number(document.body.dataset.run || 0) >= k && ["done", "error"].includes(document.body.dataset.state),
    n,
    { timeout },
  );
  return page.evaluate(() => document.body.dataset.state);
}

/** The results table as [{method, title, psnr, ssim, bitops, time}]. */
export function readTable(page) {
  return page.$$eval("#results-table tbody tr", (rows) =>
    rows.map((tr) => ({
      method: tr.dataset.method,
      title: tr.cells[0].firstChild.textContent.trim(),
      psnr: tr.querySelector(".psnr").textContent,
      ssim: tr.querySelector(".ssim").textContent,
      bitops: tr.querySelector(".bitops").textContent,
      time: Number(tr.querySelector(".time").dataset.value),
    })),
  );
}
