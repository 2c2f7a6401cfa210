/**
 * @module The optional on-disk artifact cache: after the in-memory caches are dropped
 * (as in a new process), loads read the metered modules and the jco output from disk
 * and behave exactly as the first loads did — same outputs, same fuel. An entry made by
 * another rewriter or transpiler version, or one that is truncated, garbage or altered,
 * is never used: the load rebuilds and the fresh artifact replaces it.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { componentRuntime } from "../../kernel/wasm/component-runtime.js";
import { clearTranspileCache, transpileCacheKey, transpilerIdentity } from "../../kernel/wasm/component-transpile.js";
import {
  CACHE_FORMAT_VERSION,
  cacheEntryPath,
  cacheGet,
  cacheKey,
  cachePut,
  configureWasmCache,
  type CacheKey,
} from "../../kernel/wasm/disk-cache.js";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import { FUEL_REWRITER_VERSION } from "../../kernel/wasm/fuel.js";
import { clearPreparedCache, meteredCacheKey } from "../../kernel/wasm/prepare.js";
import type { CallResult, HostFunction, LoadSpec } from "../../kernel/wasm/runtime.js";
import { packagePath } from "../../kernel/adapters/compile/paths.js";
import { expectedOutputs, runScript, SCRIPT } from "../modules/counter-fixture.js";
import { componentSpec } from "./component.js";
import { spec } from "./wat.js";

const INPUT = new Uint8Array(64).map((_, i) => (i * 7) & 0xff);
const dirs: string[] = [];

/** A new empty cache directory, switched on, with the in-memory caches dropped. */
function freshCache(): string {
  const dir = mkdtempSync(join(tmpdir(), "wk-wasm-cache-"));
  dirs.push(dir);
  configureWasmCache({ dir });
  newProcess();
  return dir;
}

/** Drops the in-memory caches, as a new process would start. */
function newProcess(): void {
  clearPreparedCache();
  clearTranspileCache();
}

async function callOnce(s: LoadSpec, input = INPUT): Promise<CallResult> {
  const runtime = s.name.includes("component") ? componentRuntime : extismRuntime;
  const m = await runtime.load(s);
  try {
    return await m.call(input);
  } finally {
    await m.close();
  }
}

function ok(r: CallResult): number[] {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return Array.from(r.output);
}

function entryFiles(dir: string, kind: string): string[] {
  return readdirSync(join(dir, kind)).filter((f) => f.endsWith(".entry"));
}

afterEach(() => configureWasmCache({ dir: undefined }));
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("disk cache", () => {
  it("stores metered modules and component artifacts, and loads give the same results", async () => {
    const dir = freshCache();
    const extism = spec("echo");
    const component = await componentSpec("echo");
    const a = await callOnce(extism);
    const c = await callOnce(component);
    // The echo plugin and the component's one core module; the component's jco output.
    expect(entryFiles(dir, "metered").length).toBe(2);
    expect(entryFiles(dir, "component").length).toBe(1);
    newProcess();
    expect(await callOnce(extism)).toEqual(a);
    expect(await callOnce(component)).toEqual(c);
    expect(a.ok && c.ok).toBe(true);
  });
});

describe("disk cache keys", () => {
  it("name every field that shapes the artifact, and differ when any of them does", () => {
    const limits = { memoryPages: 16, fuelPerStep: 1_000_000 };
    const k = meteredCacheKey("sha256:aa", limits);
    expect(k.fields).toEqual({
      kind: "metered",
      wasm: "sha256:aa",
      rewriter: FUEL_REWRITER_VERSION,
      memoryPages: 16,
      initialFuel: "1000000",
      format: CACHE_FORMAT_VERSION,
    });
    expect(k.id).toMatch(/^[0-9a-f]{64}$/);
    const ids = [
      k,
      meteredCacheKey("sha256:ab", limits),
      meteredCacheKey("sha256:aa", { ...limits, memoryPages: 17 }),
      meteredCacheKey("sha256:aa", { ...limits, fuelPerStep: 999_999 }),
      meteredCacheKey("sha256:aa", limits, { rewriter: "exact-instructions-1" }),
      cacheKey({ ...(k.fields as { kind: "metered"; wasm: string; rewriter: string }) }, CACHE_FORMAT_VERSION + 1),
    ].map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Field order never matters, values always do.
    expect(cacheKey({ rewriter: "r", wasm: "w", kind: "metered" }).id).toBe(
      cacheKey({ kind: "metered", wasm: "w", rewriter: "r" }).id,
    );
    expect(cacheKey({ kind: "metered", wasm: "w", rewriter: "r", n: 1 }).id).not.toBe(
      cacheKey({ kind: "metered", wasm: "w", rewriter: "r", n: "1" }).id,
    );
  });

  it("name the installed jco and jco-transpile versions and the transpile options for components", () => {
    const jco = JSON.parse(readFileSync(packagePath("node_modules/@bytecodealliance/jco/package.json"), "utf8")) as {
      version: string;
    };
    const id = transpilerIdentity();
    expect(id).toMatch(
      new RegExp(
        `^jco@${jco.version.replaceAll(".", "\\.")} jco-transpile@\\d+\\.\\d+\\.\\d+\\S* \\{.*"instantiation":"async".*\\}$`,
      ),
    );
    const k = transpileCacheKey("sha256:aa")!;
    expect(k.fields).toEqual({
      kind: "component",
      wasm: "sha256:aa",
      rewriter: FUEL_REWRITER_VERSION,
      transpiler: id,
      format: CACHE_FORMAT_VERSION,
    });
    expect(transpileCacheKey("sha256:aa", { rewriter: FUEL_REWRITER_VERSION, transpiler: "jco@0.0.1" })!.id).not.toBe(
      k.id,
    );
    expect(transpileCacheKey("sha256:aa", { rewriter: "exact-instructions-1", transpiler: id })!.id).not.toBe(k.id);
    // An unknown transpiler caches nothing rather than sharing entries across versions.
    expect(transpileCacheKey("sha256:aa", { rewriter: FUEL_REWRITER_VERSION, transpiler: undefined })).toBeUndefined();
  });
});

/**
 * Plants `poison` (the entry of a module that traps) under `other`, a key another
 * version would have used for `target`, and also at `target`'s own path (as if copied
 * there, so only the recorded fields tell them apart); then the load must ignore both,
 * behave as `target`, and replace the file at its own path with a fresh entry.
 */
async function expectForeignEntryIgnored(
  dir: string,
  target: LoadSpec,
  current: CacheKey,
  other: CacheKey,
  poison: Map<string, Uint8Array>,
): Promise<void> {
  const genuine = await callOnce(target);
  const fresh = cacheGet(current)!;
  expect(fresh).toBeDefined();

  freshAt(dir);
  cachePut(other, poison);
  expect(cacheGet(other)).toBeDefined();
  const r1 = await callOnce(target);
  expect(ok(r1)).toEqual(Array.from(INPUT));
  expect(r1).toEqual(genuine);
  expect(cacheGet(current)).toEqual(fresh);

  freshAt(dir);
  cachePut(other, poison);
  copyFileSync(cacheEntryPath(dir, other), cacheEntryPath(dir, current));
  expect(cacheGet(current)).toBeUndefined();
  newProcess();
  const r2 = await callOnce(target);
  expect(r2).toEqual(genuine);
  // Replaced: the file at the current path now holds the current key and the real artifact.
  expect(cacheGet(current)).toEqual(fresh);
}

/** Empties `dir` (keeping it configured) and drops the in-memory caches. */
function freshAt(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  configureWasmCache({ dir });
  newProcess();
}

describe("a cache entry from another version is never used", () => {
  it("(a) a metered module written under another rewriter version is ignored and replaced", async () => {
    const dir = freshCache();
    const trap = spec("trap");
    expect((await callOnce(trap)).ok).toBe(false);
    const poison = cacheGet(meteredCacheKey(trap.wasmHash, trap.limits))!;
    expect(poison.get("module.wasm")).toBeDefined();
    const echo = spec("echo");
    await expectForeignEntryIgnored(
      dir,
      echo,
      meteredCacheKey(echo.wasmHash, echo.limits),
      meteredCacheKey(echo.wasmHash, echo.limits, { rewriter: "exact-instructions-1" }),
      poison,
    );
  });

  it("(a) the same for a component's transpile output under another rewriter version", async () => {
    const dir = freshCache();
    const trap = await componentSpec("trap");
    expect((await callOnce(trap)).ok).toBe(false);
    const poison = cacheGet(transpileCacheKey(trap.wasmHash)!)!;
    const echo = await componentSpec("echo");
    const transpiler = transpilerIdentity();
    await expectForeignEntryIgnored(
      dir,
      echo,
      transpileCacheKey(echo.wasmHash)!,
      transpileCacheKey(echo.wasmHash, { rewriter: "exact-instructions-1", transpiler })!,
      poison,
    );
  });

  it("(b) a component's transpile output written under another transpiler version is ignored and replaced", async () => {
    const dir = freshCache();
    const trap = await componentSpec("trap");
    expect((await callOnce(trap)).ok).toBe(false);
    const poison = cacheGet(transpileCacheKey(trap.wasmHash)!)!;
    expect([...poison.keys()]).toContain("component.js");
    const echo = await componentSpec("echo");
    const older = transpilerIdentity()!.replace(/^jco@\S+/, "jco@1.0.0");
    await expectForeignEntryIgnored(
      dir,
      echo,
      transpileCacheKey(echo.wasmHash)!,
      transpileCacheKey(echo.wasmHash, { rewriter: FUEL_REWRITER_VERSION, transpiler: older })!,
      poison,
    );
  });

  it("an entry of another cache format version is ignored", async () => {
    const dir = freshCache();
    const echo = spec("echo");
    const genuine = await callOnce(echo);
    const current = meteredCacheKey(echo.wasmHash, echo.limits);
    const file = cacheEntryPath(dir, current);
    // Rewrite the recorded format in the header (same length, valid JSON, hashes intact).
    const raw = readFileSync(file);
    const headLen = raw.readUInt32BE(0);
    const head = raw
      .subarray(4, 4 + headLen)
      .toString("utf8")
      .replace(`"format":${CACHE_FORMAT_VERSION}`, `"format":${CACHE_FORMAT_VERSION + 1}`);
    expect(Buffer.byteLength(head)).toBe(headLen);
    writeFileSync(file, Buffer.concat([raw.subarray(0, 4), Buffer.from(head), raw.subarray(4 + headLen)]));
    expect(cacheGet(current)).toBeUndefined();
    newProcess();
    expect(await callOnce(echo)).toEqual(genuine);
    expect(cacheGet(current)).toBeDefined();
  });
});

describe("(c) a corrupted cache file is ignored and rebuilt, never trusted", () => {
  const corruptions: [string, (raw: Buffer) => Buffer][] = [
    ["empty", () => Buffer.alloc(0)],
    ["truncated to half", (raw) => raw.subarray(0, raw.length >> 1)],
    ["missing its last byte", (raw) => raw.subarray(0, raw.length - 1)],
    ["with a byte appended", (raw) => Buffer.concat([raw, Buffer.of(0)])],
    ["garbage of the same length", (raw) => Buffer.from(raw.map((_, i) => (i * 131 + 7) & 0xff))],
    [
      "with one payload byte flipped",
      (raw) => {
        const b = Buffer.from(raw);
        b[b.length - 10]! ^= 0x01;
        return b;
      },
    ],
    [
      "with a header length past the end",
      (raw) => {
        const b = Buffer.from(raw);
        b.writeUInt32BE(0xffffffff, 0);
        return b;
      },
    ],
    [
      "with a header that is not JSON",
      (raw) => {
        const b = Buffer.from(raw);
        b[4] = 0x7b;
        b[5] = 0x7b;
        return b;
      },
    ],
  ];

  it.each(corruptions)("metered module %s", async (_, corrupt) => {
    const dir = freshCache();
    const echo = spec("echo");
    const genuine = await callOnce(echo);
    const key = meteredCacheKey(echo.wasmHash, echo.limits);
    const file = cacheEntryPath(dir, key);
    const good = readFileSync(file);
    writeFileSync(file, corrupt(good));
    expect(cacheGet(key)).toBeUndefined();
    newProcess();
    expect(await callOnce(echo)).toEqual(genuine);
    expect(readFileSync(file)).toEqual(good);
  });

  it.each(corruptions)("component transpile output %s", async (_, corrupt) => {
    const dir = freshCache();
    const echo = await componentSpec("echo");
    const genuine = await callOnce(echo);
    const key = transpileCacheKey(echo.wasmHash)!;
    const file = cacheEntryPath(dir, key);
    const good = cacheGet(key)!;
    writeFileSync(file, corrupt(readFileSync(file)));
    expect(cacheGet(key)).toBeUndefined();
    newProcess();
    expect(await callOnce(echo)).toEqual(genuine);
    expect(cacheGet(key)).toEqual(good);
  });

  it("an intact entry whose files are not what the loader wrote is rebuilt", async () => {
    freshCache();
    const echo = spec("echo");
    const genuine = await callOnce(echo);
    const key = meteredCacheKey(echo.wasmHash, echo.limits);
    // Well-formed and hash-consistent, but the module does not compile and the info is missing.
    cachePut(key, new Map([["module.wasm", Uint8Array.of(0, 0x61, 0x73, 0x6d, 9, 9)]]));
    expect(cacheGet(key)).toBeDefined();
    newProcess();
    expect(await callOnce(echo)).toEqual(genuine);
    expect(cacheGet(key)!.get("info.json")).toBeDefined();
  });
});

describe("(d) fuel is the same with a cold and a warm cache", () => {
  it("for every step of the counter script (committed WAT counter, Extism runtime)", async () => {
    const dir = freshCache();
    const wasm = new Uint8Array(readFileSync(packagePath("modules/wat/counter.wasm")));
    const counter = spec("counter", { bytes: wasm });
    const run = async (): Promise<{ outputs: string[]; fuel: number[] }> => {
      const m = await extismRuntime.load(counter);
      const fuel: number[] = [];
      try {
        const outputs = await runScript(async (input) => {
          const r = await m.call(input);
          fuel.push(r.fuelUsed);
          return new Uint8Array(ok(r));
        });
        return { outputs: outputs.map((o) => Buffer.from(o).toString("hex")), fuel };
      } finally {
        await m.close();
      }
    };

    configureWasmCache({ dir: undefined });
    const uncached = await run();
    configureWasmCache({ dir });
    newProcess();
    const cold = await run();
    const file = cacheEntryPath(dir, meteredCacheKey(counter.wasmHash, counter.limits));
    const written = statSync(file);
    newProcess();
    const warm = await run();
    // The warm run read the entry rather than rewriting it.
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);

    expect(cold.outputs).toEqual(expectedOutputs().map((o) => Buffer.from(o).toString("hex")));
    expect(warm).toEqual(cold);
    expect(uncached).toEqual(cold);
    expect(cold.fuel).toHaveLength(SCRIPT.length);
    expect(cold.fuel.every((f) => f > 0)).toBe(true);
    // Different events cost different fuel, so equality above is not vacuous.
    expect(new Set(cold.fuel).size).toBeGreaterThan(1);
  });

  it("for a component (transpiled and metered from the cache) making a host call", async () => {
    const dir = freshCache();
    const reverse: HostFunction = {
      name: "blob_get",
      capability: "blob",
      call: (inp) => Uint8Array.from([...inp].reverse()),
    };
    const blob = await componentSpec("blob", { hostFunctions: [reverse] });
    const inputs = [new Uint8Array(0), INPUT, new Uint8Array(1000).fill(3)];
    const run = async (): Promise<CallResult[]> => Promise.all(inputs.map((i) => callOnce(blob, i)));
    const cold = await run();
    const files = [
      ...entryFiles(dir, "metered").map((f) => join(dir, "metered", f)),
      ...entryFiles(dir, "component").map((f) => join(dir, "component", f)),
    ];
    const before = files.map((f) => statSync(f).ino);
    newProcess();
    const warm = await run();
    expect(files.map((f) => statSync(f).ino)).toEqual(before);
    expect(warm).toEqual(cold);
    expect(ok(cold[1]!)).toEqual([...INPUT].reverse());
    expect(new Set(cold.map((r) => r.fuelUsed)).size).toBe(inputs.length);
  });
});
