/**
 * @module The world the analysis tests record journals in: worlds/analysis, whose three modules
 * demo/A@1, demo/B@1 and demo/C@1 run one scripted agent (modules/assemblyscript/scripted: what a
 * step does is written in its input), with a real approver in place of the folder's placeholder.
 * Its slots: `net` (HTTP to 127.0.0.1, allowed), `once` (the same, one use in budget), `held` (needs
 * the approver; intents live `TTL` ns). The clock is injected: every event is stamped `T0`.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCatalogOrThrow, encodeCanonical, hashBytes, type CborValue } from "../../air/index.js";
import type { KeyPair } from "../../kernel/crypto/keys.js";
import { createWorld, type World, type WorldSource } from "../../kernel/world/index.js";
import type { OpenOptions } from "../../kernel/world/open-options.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";

const WORLD = new URL("../../worlds/analysis/", import.meta.url).pathname;
const WASM = new URL("../../modules/assemblyscript/scripted/scripted.wasm", import.meta.url).pathname;

/** Intent lifetime under the `held` grant (worlds/analysis/manifest.air.json). */
export const TTL = 1_000_000_000n;
/** The injected clock's start. */
export const T0 = 1_800_000_000_000_000_000n;

/** worlds/analysis's AIR and binary, its policy's approver replaced by `approver` (the folder names a placeholder). */
export function agentSource(approver: KeyPair): WorldSource {
  const wasm = readFileSync(WASM);
  const h = hashBytes(wasm);
  const files = readdirSync(WORLD).filter((f) => f.endsWith(".air.json"));
  const catalog = buildCatalogOrThrow(
    files.map((file) => {
      const text = readFileSync(join(WORLD, file), "utf8").replace(/"0{64}"/g, `"${approver.publicKeyHex}"`);
      const defs = ([] as Record<string, unknown>[]).concat(JSON.parse(text) as Record<string, unknown>);
      for (const d of defs)
        if (d.$kind === "defmodule") {
          delete d.wasm;
          d.wasm_hash = h;
        }
      return { file, value: defs };
    }),
  );
  return { catalog, wasm: new Map([[h, new Uint8Array(wasm)]]) };
}

/** A fresh agent world in a temp directory, its clock fixed at T0 unless `opts` says otherwise. */
export async function agentWorld(approver: KeyPair, opts: OpenOptions = {}): Promise<{ w: World; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-analysis-")), "w");
  const w = await createWorld(dir, agentSource(approver), {
    adapters: defaultAdapters(),
    clock: () => T0,
    anchorLog: false,
    ...opts,
  });
  return { w, dir };
}

/** One effect for a request: an HTTP GET of `url` through `slot`. */
export function get(url: string, slot = "net"): { kind: string; slot: string; params: string } {
  const params: CborValue = { method: "GET", url, headers: {}, body_ref: null };
  return { kind: "http.request", slot, params: Buffer.from(encodeCanonical(params)).toString("base64") };
}

/** A demo/ToA@1 request (to demo/A@1) for cell `key`; fields not given are empty. */
export function request(
  key: string,
  r: {
    next?: string[];
    fanout?: string[];
    effects?: ReturnType<typeof get>[];
    then?: string[];
    on_fail?: "ignore" | "report" | "claim" | "retry";
    retries?: number;
    fail?: boolean;
  } = {},
): { schema: string; json: unknown } {
  return {
    schema: "demo/ToA@1",
    json: {
      key,
      next: r.next ?? [],
      fanout: r.fanout ?? [],
      effects: r.effects ?? [],
      then: r.then ?? [],
      on_fail: r.on_fail ?? "",
      retries: r.retries ?? 0,
      fail: r.fail ?? false,
      status: "",
    },
  };
}
