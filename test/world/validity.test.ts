/**
 * @module Validity windows (validity-v1): every intent carries `valid_until_ns` from its
 * grant's `intent_ttl_ns` (capped by the grant's expiry). A held intent approved after its
 * deadline, or left waiting past it, gets an `expired` receipt signed by the world key and
 * is never performed; one approved in time runs. The clock is injected, never read.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeStored, type CborObject } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { World, createWorld, replayWorld, sourceFromAirDir, verifyWorld } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { startPageServer, type PageServer } from "./page-server.js";

const FETCHER = new URL("../fixtures/worlds/fetcher/world.air.json", import.meta.url).pathname;
const TTL = 1_000_000_000n; // 1 s
const T0 = 1_800_000_000_000_000_000n;

/** The fetcher world, but its policy holds every fetch for an approver, and its grant gives intents 1 s. */
function heldFetcherAir(approver: string): string {
  const dir = mkdtempSync(join(tmpdir(), "wk-validity-air-"));
  const defs = JSON.parse(readFileSync(FETCHER, "utf8")) as Record<string, unknown>[];
  for (const d of defs) {
    if (d.$kind === "defmodule") {
      copyFileSync(new URL(`../fixtures/worlds/fetcher/${String(d.wasm)}`, import.meta.url), join(dir, "fetcher.wasm"));
      d.wasm = "./fetcher.wasm";
    }
    if (d.$kind === "defpolicy") {
      (d.rules as { decision: string }[])[0]!.decision = "require_approval";
      d.approvers = [{ id: "ops", public_key: approver }];
    }
    if (d.$kind === "manifest")
      (d.defaults as { cap_grants: Record<string, unknown>[] }).cap_grants[0]!.intent_ttl_ns = Number(TTL);
  }
  writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
  return dir;
}

describe("validity windows", () => {
  let server: PageServer;
  let url = "";
  let hits = 0;
  beforeAll(async () => {
    server = await startPageServer((_req, res) => (hits++, res.end("ok")));
    url = server.url;
  });
  afterAll(() => server.close());

  it("approved in time runs; approved late, or left waiting, expires without running", async () => {
    const approver = generateKeyPair();
    const dir = join(mkdtempSync(join(tmpdir(), "wk-validity-")), "w");
    let now = T0;
    const opts = { adapters: defaultAdapters(), clock: () => now };
    const w = await createWorld(dir, sourceFromAirDir(heldFetcherAir(approver.publicKeyHex)), opts);
    await w.send("demo/Fetch@1", { key: "a", url: `${url}/a` });
    await w.send("demo/Fetch@1", { key: "b", url: `${url}/b` });
    await w.send("demo/Fetch@1", { key: "c", url: `${url}/c` });
    const held = [...w.state.pending.values()];
    expect(held.map((p) => p.waiting)).toEqual(["approval", "approval", "approval"]);
    expect(held.every((p) => p.validUntilNs === T0 + TTL)).toBe(true);

    now = T0 + TTL / 2n;
    await w.decideHeldIntent(held[0]!.intentId, approver, "allow");
    expect(hits).toBe(1);
    now = T0 + 2n * TTL;
    await w.decideHeldIntent(held[1]!.intentId, approver, "allow");
    expect(hits).toBe(1); // the late approval is journaled, the fetch never happens
    await w.runUntilIdle(); // the third, never approved, expires too
    expect(w.state.pending.size).toBe(0);
    const root = w.stateRefs().state_root;
    const receipts = new Map<string, CborObject>();
    for (const e of w.store.iterateSync()) {
      if (e.kind === "effect_receipt") {
        const b = decodeStored(e.body) as CborObject;
        receipts.set(b.intent_id as string, b.receipt as CborObject);
      }
    }
    expect(receipts.get(held[0]!.intentId)).toMatchObject({ status: "ok" });
    expect(receipts.get(held[1]!.intentId)).toMatchObject({ status: "expired", adapter_id: "kernel.expiry" });
    expect(receipts.get(held[2]!.intentId)).toMatchObject({ status: "expired", adapter_id: "kernel.expiry" });
    await w.close();
    expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    // Reopened later, nothing is left to do.
    const again = await World.open(dir, { ...opts });
    expect(again.state.pending.size).toBe(0);
    await again.close();
  }, 60_000);
});
