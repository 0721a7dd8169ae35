/**
 * `npx daskflow ui` as a user starts it (a child process): loopback by default, a token off loopback (401 without
 * it; `?token=` once, then its cookie, or a Bearer header), read-only, and a foreign Host refused on loopback.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { request } from "node:http";
import { launchBrowser } from "./browser.ts";

const REPO = resolve(import.meta.dirname, "..", "..");

/** Starts the CLI and resolves with the URL it prints. */
async function startCli(args: string[]): Promise<{ url: URL; child: ChildProcess; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "daskflow-ui-cli-"));
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src", "cli", "index.ts"), "ui", "--port", "0", "--history", join(dir, "history.db"), ...args],
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<URL>((ok, fail) => {
      let out = "", err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += String(d);
        const m = /daskflow ui: (\S+)/.exec(out);
        if (m) ok(new URL(m[1]!));
      });
      child.stderr.on("data", (d: Buffer) => (err += String(d)));
      child.once("exit", (code) => fail(new Error(`daskflow ui exited ${code}: ${err}`)));
    });
    return { url, child, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A raw GET (fetch would not let the test set Host). */
function get(port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += String(d)));
      res.on("end", () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

test("on loopback by default: no token, security headers, read-only, foreign Host names refused", async () => {
  const ui = await startCli([]);
  try {
    assert.equal(ui.url.hostname, "127.0.0.1");
    assert.equal(ui.url.search, "");
    const port = Number(ui.url.port);
    const page = await get(port, "/");
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'self'; script-src 'self'/);
    assert.equal(page.headers["x-content-type-options"], "nosniff");
    assert.doesNotMatch(page.body, /<script>/, "no inline script");
    assert.deepEqual(JSON.parse((await get(port, "/api/runs")).body), { items: [] });
    assert.equal((await get(port, "/api/runs", {}, "POST")).status, 405);
    const bad = await get(port, "/api/runs?state=DONE");
    assert.equal(bad.status, 400);
    assert.match(bad.body, /state must be among PENDING/);
    assert.equal((await get(port, "/api/runs/no-such-run/events")).status, 404, "no event stream for a run that is not there");
    assert.equal((await get(port, "/api/runs/no-such-run")).status, 404);
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host name.
    assert.equal((await get(port, "/api/runs", { host: `evil.example:${port}` })).status, 403);
  } finally {
    await ui.stop();
  }
});

test("off loopback (0.0.0.0) every request needs the printed token: 401 without, the URL's token then a cookie, or a Bearer header", async () => {
  const ui = await startCli(["--host", "0.0.0.0"]);
  const browser = await launchBrowser();
  try {
    const token = ui.url.searchParams.get("token");
    assert.ok(token && token.length >= 32, `a long token in ${ui.url.href}`);
    const port = Number(ui.url.port);
    for (const path of ["/", "/api/runs", "/assets/app.js", "/runs/x"]) assert.equal((await get(port, path)).status, 401, path);
    assert.equal((await get(port, "/api/runs?token=wrong")).status, 401);
    assert.equal((await get(port, "/api/runs", { authorization: "Bearer wrong" })).status, 401);
    assert.equal((await get(port, "/api/runs", { authorization: `Bearer ${token}` })).status, 200);
    const trade = await get(port, `/?token=${token}`);
    assert.equal(trade.status, 303);
    assert.equal(trade.headers.location, "/", "the token leaves the address bar");
    assert.match(String(trade.headers["set-cookie"]), /HttpOnly; SameSite=Strict/);

    // A user opens the printed URL (by this machine's loopback address: the name printed may not resolve here).
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
    await page.waitForSelector("text=No runs recorded yet");
    assert.equal(new URL(page.url()).search, "");
    await browser.context.clearCookies();
    assert.equal((await page.goto(`http://127.0.0.1:${port}/`))?.status(), 401, "without the cookie the browser is refused");
  } finally {
    await browser.close();
    await ui.stop();
  }
});
