/**
 * @module The worlds the console's browser test serves, made with the library before the
 * server starts: the fetcher world whose policy holds every `http.request` for an approver
 * (one event sent, so one intent waits), and the governed counter world with two shadow-run
 * proposals (one whose steps all fail, one that changes nothing but the manifest). Both name
 * the same approver, whose key file the test loads into the browser.
 */
import { join } from "node:path";
import { generateKeyPair, saveKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { createWorld, propose, shadow, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { fuelPatch, worldWith } from "../world/fixtures/governed-counter.js";

import { holdForApproval, writeFetcherAir } from "../world/fixtures/fetcher.js";

/** The approver of both worlds, saved as a key file (the one the approver picks in the browser). */
export function approverKey(base: string): { key: KeyPair; file: string } {
  const key = generateKeyPair();
  const file = join(base, "approver.key");
  saveKeyPair(file, key);
  return { key, file };
}

/** The fetcher world under `base/fetcher`, holding intents for `approver`, with one held intent for `url`. */
export async function fetcherWorld(
  base: string,
  approver: KeyPair,
  url: string,
): Promise<{ dir: string; held: string }> {
  const air = writeFetcherAir(join(base, "fetcher-air"), holdForApproval(approver.publicKeyHex));
  const dir = join(base, "fetcher");
  const w = await createWorld(dir, sourceFromAirDir(air), { adapters: defaultAdapters() });
  await w.send("demo/Fetch@1", { key: "a", url });
  const held = [...w.state.pending.values()].filter((p) => p.waiting === "approval").map((p) => p.intentId);
  await w.close();
  if (held.length !== 1) throw new Error(`expected one held intent, got ${held.length}`);
  return { dir, held: held[0]! };
}

/**
 * The governed counter world naming `approver`, with three proposals by another key, all
 * shadow-run: `failing` (fuel 1: every step fails), `clean` (ample fuel: only the manifest changes)
 * and `widening` (twice the default fuel: a limit raised, which its report flags as widening).
 */
export async function governedWorld(
  approver: KeyPair,
): Promise<{ dir: string; failing: string; clean: string; widening: string }> {
  const proposer = generateKeyPair();
  const { w, dir, src } = await worldWith([approver]);
  const base = w.catalog.manifestHash;
  const failing = (await propose(w, fuelPatch(base, src.mod, 1), { proposer })).proposalId;
  await shadow(w, failing, { window: 50 });
  const clean = (await propose(w, fuelPatch(base, src.mod, 50_000_000), { proposer })).proposalId;
  await shadow(w, clean, { window: 50 });
  const widening = (await propose(w, fuelPatch(base, src.mod, 100_000_000), { proposer })).proposalId;
  await shadow(w, widening, { window: 50 });
  await w.close();
  return { dir, failing, clean, widening };
}
