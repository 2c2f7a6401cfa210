/**
 * @module A real `wk serve` process for the API tests: spawned through tsx (no build), its
 * first stdout line (`listening`) parsed for the URL, stopped with SIGTERM and awaited to exit
 * 0 after its `stopped` line. Also a 0600 tokens file holding one token per role, clients per
 * role, a reader of the SSE stream over fetch, and the `wk` CLI for checking the world after
 * the server is gone. Every process started here is remembered so `killLeftovers` can SIGKILL
 * what a failed test left running.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WorldkernelClient } from "../../tools/serve/client.js";
import type { Role } from "../../tools/serve/tokens.js";

export const REPO = new URL("../../", import.meta.url).pathname;
const CLI = join(REPO, "tools/cli/main.ts");

/** One token per role (admin holds every role). */
export type RoleTokens = Record<Role, string>;

/** Writes a tokens file with one fresh token per role, of `mode` (0600 unless a test wants it refused). */
export function writeTokens(dir: string, mode = 0o600): { file: string; tokens: RoleTokens } {
  const tok = (role: string) => `${role}-${randomBytes(16).toString("hex")}`;
  const tokens: RoleTokens = { ingest: tok("ingest"), read: tok("read"), approve: tok("approve"), admin: tok("admin") };
  const file = join(dir, "tokens.json");
  const body = { tokens: Object.entries(tokens).map(([role, token]) => ({ token, roles: [role] })) };
  writeFileSync(file, JSON.stringify(body), { mode });
  chmodSync(file, mode); // the umask may have narrowed writeFileSync's mode
  return { file, tokens };
}

/** A running `wk serve`. */
export interface Served {
  url: string;
  worlds: string[];
  listening: Record<string, unknown>;
  proc: ChildProcess;
  /** Every stdout line so far (JSON records). */
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  /** SIGTERM, then the exit code and the stdout records. */
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: Record<string, unknown>[] }>;
}

const started = new Set<ChildProcess>();

/** What a process did before it exited (for a server refusing to start). */
export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns `wk serve` over `worlds` (with `env` added to this process's); resolves at its `listening` line, or rejects with what it printed when it exits first. */
export function startServe(
  worlds: readonly string[],
  tokensFile?: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Served> {
  const args = ["--import", "tsx", CLI, "serve", ...worlds.flatMap((w) => ["--world", w]), "--port", "0"];
  if (tokensFile !== undefined) args.push("--tokens", tokensFile);
  // cwd is the repository so `--import tsx` resolves from its node_modules.
  const proc = spawn(process.execPath, [...args, ...extra], {
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  started.add(proc);
  let out = "";
  let err = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => {
      started.delete(proc);
      resolve({ code, signal });
    }),
  );
  proc.stderr!.on("data", (d) => (err += String(d)));
  const lines = () =>
    out
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return new Promise<Served>((resolve, reject) => {
    let done = false;
    proc.stdout!.on("data", (d) => {
      out += String(d);
      if (done || !out.includes("\n")) return;
      done = true;
      const listening = lines()[0]!;
      if (listening.event !== "listening") {
        reject(new Error(`wk serve's first line is not listening: ${out}\n${err}`));
        return;
      }
      resolve({
        url: String(listening.url),
        worlds: listening.worlds as string[],
        listening,
        proc,
        lines,
        stderr: () => err,
        stop: async () => {
          proc.kill("SIGTERM");
          const r = await exited;
          return { ...r, lines: lines() };
        },
      });
    });
    void exited.then(({ code }) => {
      if (done) return;
      done = true;
      reject(
        Object.assign(new Error(`wk serve exited ${code} before listening:\n${err}`), {
          code,
          stdout: out,
          stderr: err,
        }),
      );
    });
  });
}

/** Runs `wk serve` expecting it to refuse to start: its exit code and output. */
export async function serveRefused(worlds: readonly string[], tokensFile: string): Promise<Exited> {
  try {
    const s = await startServe(worlds, tokensFile);
    await s.stop();
    throw new Error(`wk serve started on ${s.url}`);
  } catch (e) {
    const x = e as Partial<Exited> & Error;
    if (x.stderr === undefined) throw e;
    return { code: x.code ?? null, stdout: x.stdout ?? "", stderr: x.stderr };
  }
}

/** SIGKILLs every server a test left running (for afterAll). */
export function killLeftovers(): void {
  for (const p of started) p.kill("SIGKILL");
  started.clear();
}

/** Runs the `wk` CLI to the end (only while no test HTTP server must answer: it blocks this process). */
export function wk(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A client per role. */
export function clients(url: string, tokens: RoleTokens): Record<Role, WorldkernelClient> {
  const c = (token: string) => new WorldkernelClient({ baseUrl: url, token });
  return { ingest: c(tokens.ingest), read: c(tokens.read), approve: c(tokens.approve), admin: c(tokens.admin) };
}

/** Raw fetch with a bearer token (for requests the typed client would never make). */
export async function raw(
  url: string,
  token: string | undefined,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  Object.assign(headers, init.headers);
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers,
    redirect: "manual",
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** One server-sent event. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** An open event stream read over fetch: `next()` yields its events in order. */
export interface SseReader {
  status: number;
  contentType: string | null;
  next: () => Promise<SseEvent>;
  /** Events until `stop` says enough (inclusive). */
  until: (stop: (e: SseEvent, all: SseEvent[]) => boolean) => Promise<SseEvent[]>;
  close: () => void;
}

/** Opens a world's stream (`from` as the query, or a `Last-Event-ID` header) and parses it as SSE. */
export async function openStream(url: string, token: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: ac.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const ready: SseEvent[] = [];
  const pull = async (): Promise<void> => {
    const { value, done } = await reader.read();
    if (done) throw new Error("the event stream ended");
    buf += decoder.decode(value, { stream: true });
    // Events end at a blank line; comment lines (keep-alives) carry no field.
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const e: SseEvent = { event: "message", data: "" };
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const c = line.indexOf(":");
        const name = c < 0 ? line : line.slice(0, c);
        const value = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
        fields++;
        if (name === "event") e.event = value;
        else if (name === "id") e.id = value;
        else if (name === "data") data.push(value);
      }
      if (fields === 0) continue;
      e.data = data.join("\n");
      ready.push(e);
    }
  };
  const next = async (): Promise<SseEvent> => {
    while (ready.length === 0) await pull();
    return ready.shift()!;
  };
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    next,
    async until(stop) {
      const all: SseEvent[] = [];
      for (;;) {
        const e = await next();
        all.push(e);
        if (stop(e, all)) return all;
      }
    },
    close: () => ac.abort(),
  };
}

/** Polls `f` until it returns a value other than undefined; the cap is a safety net against a hang, not a timing assertion. */
export async function poll<T>(f: () => Promise<T | undefined>, what: string, capMs = 30_000): Promise<T> {
  const deadline = Date.now() + capMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
