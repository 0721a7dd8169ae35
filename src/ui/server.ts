/**
 * The UI's HTTP server (node:http, read-only): the page shell, its assets, JSON over the history store and live
 * updates as server-sent events. Off loopback every request needs the token (`?token=` once, then an HttpOnly
 * cookie, or `Authorization: Bearer`); on loopback the Host header must be a loopback name, so a web page the user
 * visits cannot read the history by DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { SHELL, STYLE, clientModule } from "./assets.ts";
import { handleApi, BadRequest, RawJson } from "./api.ts";
import { LiveHub } from "./live.ts";
import { InvalidOptionError } from "../core/errors.ts";
import type { HistoryReader } from "./reader.ts";

export interface UiServerOptions {
  /** The store, opened on the first request that needs it (the server listens at once). */
  store: () => Promise<HistoryReader>;
  host: string;
  port: number;
  /** Required off loopback. */
  token?: string | undefined;
  /** How often a live page's run is read again, ms (default 300). */
  pollMs?: number;
}

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};
const COOKIE = "daskflow_ui_token";

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function createUiServer(options: UiServerOptions): { server: Server; live: LiveHub } {
  if (!isLoopback(options.host) && !options.token) throw new Error(`The UI on ${options.host} (not loopback) needs a token.`);
  let opened: Promise<HistoryReader> | undefined;
  const store = () => (opened ??= options.store());
  const live = new LiveHub(store, options.pollMs ?? 300);
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, error instanceof BadRequest || error instanceof InvalidOptionError ? 400 : 500, { error: (error as Error).message });
      else res.end();
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://ui.invalid");
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "The UI is read-only." }, { allow: "GET, HEAD" });
    if (options.token) {
      const given = url.searchParams.get("token");
      if (given !== null && same(given, options.token)) {
        // Trade the URL's token for a cookie and drop it from the address bar (and from any later Referer).
        url.searchParams.delete("token");
        res.writeHead(303, { ...HEADERS, location: url.pathname + url.search, "set-cookie": `${COOKIE}=${options.token}; HttpOnly; SameSite=Strict; Path=/` });
        return void res.end();
      }
      if (!authorized(req, options.token)) return send(res, 401, { error: "This UI needs its token: open the URL `daskflow ui` printed." });
    } else if (!isLoopback(hostName(req.headers.host))) {
      return send(res, 403, { error: "Open the UI at the address `daskflow ui` printed (a loopback name)." });
    }
    const path = url.pathname;
    if (path === "/" || path === "/index.html" || /^\/runs\/[^/]+$/.test(path)) return text(res, 200, "text/html", SHELL);
    if (path === "/assets/style.css") return text(res, 200, "text/css", STYLE, true);
    const asset = /^\/assets\/([a-z0-9-]+)\.js$/.exec(path);
    if (asset) {
      const code = await clientModule(asset[1]!);
      return code === undefined ? send(res, 404, { error: "no such asset" }) : text(res, 200, "text/javascript", code, true);
    }
    if (path === "/favicon.ico") return void res.writeHead(204, HEADERS).end();
    const events = /^\/api\/runs\/([^/]+)\/events$/.exec(path);
    if (events) {
      const id = decodeURIComponent(events[1]!);
      if (!(await (await store()).flowRun(id))) return send(res, 404, { error: `No flow run ${id}` });
      return live.subscribe(id, req, res, HEADERS);
    }
    if (path.startsWith("/api/")) {
      const body = await handleApi(await store(), path, url.searchParams);
      if (body === undefined) return send(res, 404, { error: `Not found: ${path}` });
      return body instanceof RawJson ? text(res, 200, "application/json", body.text) : send(res, 200, body);
    }
    return send(res, 404, { error: `Not found: ${path}` });
  }
  server.on("close", () => live.close());
  return { server, live };
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  text(res, status, "application/json", JSON.stringify(body), false, extra);
}

function text(res: ServerResponse, status: number, type: string, body: string, cacheable = false, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...HEADERS,
    ...extra,
    "content-type": `${type}; charset=utf-8`,
    "cache-control": cacheable ? "max-age=300" : "no-store",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function hostName(host: string | undefined): string {
  if (!host) return "";
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
}

function authorized(req: IncomingMessage, token: string): boolean {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (bearer !== undefined && same(bearer, token)) return true;
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, value] = part.trim().split("=", 2);
    if (name === COOKIE && value !== undefined && same(value, token)) return true;
  }
  return false;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
