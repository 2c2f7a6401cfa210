/**
 * @module A scratch project folder (package.json) holding worlds/governed-counter with a fresh
 * approver key substituted into its policy, the committed counter binaries it points at, a
 * developer key, and a world created from it with two events — built through the CLI, as
 * the governed-counter README does.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, json, ok, wk } from "./cli-harness.js";

export const C_WASM = "modules/c/counter/counter.wasm";
export const AS_WASM = "modules/assemblyscript/counter/counter.wasm";

/** The folders and keys of a governed project. */
export interface GovernedProject {
  base: string;
  /** The AIR folder (`base/worlds/gc`). */
  air: string;
  world: string;
  approver: string;
  developer: string;
  /** The world's manifest hash at creation. */
  manifest: string;
}

/** Builds a governed project in a new temp folder named after `prefix`. */
export function governedProject(prefix: string): GovernedProject {
  const base = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(base, "package.json"), '{ "name": "scratch", "private": true }\n');
  for (const f of [C_WASM, AS_WASM]) {
    mkdirSync(join(base, f, ".."), { recursive: true });
    copyFileSync(join(ROOT, f), join(base, f));
  }
  const air = join(base, "worlds/gc");
  cpSync(join(ROOT, "worlds/governed-counter"), air, { recursive: true });
  const approver = join(base, "keys/approver.key");
  const developer = join(base, "keys/developer.key");
  const pub = ok<{ public_key: string }>("keys", "new", approver, "--json").public_key;
  ok("keys", "new", developer, "--json");
  const policy = join(air, "policy.air.json");
  writeFileSync(policy, readFileSync(policy, "utf8").replace("0".repeat(64), pub));
  const world = join(base, "world");
  const created = ok<{ manifest_hash: string }>("create", air, "--world", world, "--json");
  for (const [key, by] of [
    ["alice", 5],
    ["bob", 150],
  ] as const)
    json(wk("send", "demo/CounterEvent@1", JSON.stringify({ key, by }), "--world", world, "--json"));
  return { base, air, world, approver, developer, manifest: created.manifest_hash };
}
