/**
 * Debian's chromium driven by playwright-core (which never downloads a browser), with the flags this kind of
 * offline machine needs (without them chromium stalls on network and update checks) and a fresh profile each time.
 * scripts/setup-test-system.sh installs chromium when it is missing.
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.DASKFLOW_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];

export interface Browser extends AsyncDisposable {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/setup-test-system.sh (as root it installs Debian's chromium).`);
  const profile = mkdtempSync(join(tmpdir(), "daskflow-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close, [Symbol.asyncDispose]: close };
}
