/**
 * @module The optional on-disk artifact cache: after the in-memory caches are dropped
 * (as in a new process), loads read the metered modules and the jco output from disk
 * and behave exactly as the first loads did.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { componentRuntime } from "../../kernel/wasm/component-runtime.js";
import { clearTranspileCache } from "../../kernel/wasm/component-transpile.js";
import { clearPreparedCache } from "../../kernel/wasm/prepare.js";
import { configureWasmCache } from "../../kernel/wasm/disk-cache.js";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import { componentSpec } from "./component.js";
import { spec } from "./wat.js";

const dir = mkdtempSync(join(tmpdir(), "wk-wasm-cache-"));
afterAll(() => {
  configureWasmCache({ dir: undefined });
  rmSync(dir, { recursive: true, force: true });
});

describe("disk cache", () => {
  it("stores metered modules and component artifacts, and loads give the same results", async () => {
    configureWasmCache({ dir });
    const input = new Uint8Array(64).fill(9);
    const extism = spec("echo");
    const component = await componentSpec("echo");
    const a = await (await extismRuntime.load(extism)).call(input);
    const c = await (await componentRuntime.load(component)).call(input);
    expect(readdirSync(join(dir, "metered")).length).toBe(2);
    expect(readdirSync(join(dir, "component")).length).toBe(1);
    clearPreparedCache();
    clearTranspileCache();
    expect(await (await extismRuntime.load(extism)).call(input)).toEqual(a);
    expect(await (await componentRuntime.load(component)).call(input)).toEqual(c);
    expect(a.ok && c.ok).toBe(true);
  });
});
