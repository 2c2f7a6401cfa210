/**
 * @module The governance part of `wk demo`: port the counter module from AssemblyScript to
 * C through propose → shadow → approve → apply. The shadow run replays the world's history
 * under both modules and shows every cell ends the same (and what the entries differ in); an approver
 * named by the policy signs; apply swaps the manifest; replay crosses the apply.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildCatalogOrThrow, type AirCatalog } from "../../../air/loader.js";
import { hashBytes } from "../../../air/hash.js";
import { hashDef } from "../../../air/defs.js";
import type { AnyDef, DefModule, Manifest } from "../../../air/schemas/defs.js";
import { generateKeyPair, saveKeyPair } from "../../../kernel/crypto/keys.js";
import {
  apply,
  approve,
  createWorld,
  propose,
  replayWorld,
  shadow,
  sourceFromAirDir,
  type WorldSource,
} from "../../../kernel/world/index.js";
import { REPO_ROOT, say, step } from "./say.js";

/** The counter world (worlds/counter) plus a default policy naming one approver, `approverHex`. */
export function governedCounterSource(approverHex: string): { catalog: AirCatalog; wasm: WorldSource["wasm"] } {
  const src = sourceFromAirDir(join(REPO_ROOT, "worlds/counter"));
  const manifest = src.catalog.manifest;
  const policy = {
    $kind: "defpolicy",
    name: "demo/governance@1",
    rules: [],
    approvers: [{ id: "ops", public_key: approverHex }],
    threshold: 1,
  } as AnyDef;
  const governed: Manifest = {
    ...manifest,
    policies: [{ name: "demo/governance@1" }],
    defaults: { ...(manifest.defaults ?? {}), policy: "demo/governance@1" },
  };
  const defs = [...src.catalog.sources.filter((d) => d.$kind !== "manifest"), policy, governed];
  return { catalog: buildCatalogOrThrow([{ file: "governed", value: defs }]), wasm: src.wasm };
}

/** Runs the governance tour in `base/governed`. */
export async function governanceTour(base: string, first: number): Promise<void> {
  step(`${first}. Governance: port the counter from AssemblyScript to C — propose, shadow-run, approve, apply`);
  const approver = generateKeyPair();
  saveKeyPair(join(base, "approver.key"), approver);
  // The developer who ports the module signs the proposal; the policy's approver is someone else.
  const developer = generateKeyPair();
  saveKeyPair(join(base, "developer.key"), developer);
  const { catalog, wasm } = governedCounterSource(approver.publicKeyHex);
  const dir = join(base, "governed");
  const world = await createWorld(dir, { catalog, wasm });
  await world.sendMany(
    Array.from({ length: 40 }, (_, i) => ({
      schema: "demo/CounterEvent@1",
      json: { key: ["alice", "bob"][i % 2]!, by: 9 + (i % 4) },
    })),
  );

  const c = new Uint8Array(readFileSync(join(REPO_ROOT, "modules/c/counter/counter.wasm")));
  const current = catalog.modules.get("demo/Counter@1")!.def;
  const next: DefModule = { ...current, wasm_hash: hashBytes(c) };
  const { proposalId } = await propose(
    world,
    {
      base_manifest_hash: world.catalog.manifestHash,
      description: "port demo/Counter@1 to C",
      patches: [
        { replace_def: { kind: "defmodule", name: "demo/Counter@1", new_node: next, pre_hash: hashDef(current) } },
      ],
    },
    { wasm: [c], proposer: developer },
  );
  say(`proposal ${proposalId}, signed by the developer's key`);
  const { report } = await shadow(world, proposalId);
  say(
    `shadow run over ${report.events} recorded events: ${report.cells.length} cell(s) end differently, ${report.failures.length} step(s) fail`,
  );
  // What the entries differ in is a finding of the report, not something the tour assumes.
  const fields = Object.entries(report.differing_fields)
    .map(([f, n]) => `${f} ×${n}`)
    .join(", ");
  if (report.differing_entries === 0)
    say(`no entry differs (fuel: ${report.fuel.before} with AssemblyScript, ${report.fuel.after} with C)`);
  else if (report.fuel_only === report.differing_entries)
    say(
      `(${report.differing_entries} entr(ies) differ, all only in fuel: ${report.fuel.before} with AssemblyScript, ${report.fuel.after} with C)`,
    );
  else
    say(
      `${report.differing_entries} entr(ies) differ, ${report.fuel_only} only in fuel; fields that differ: ${fields}`,
    );
  if (report.cells.length !== 0 || report.failures.length !== 0)
    throw new Error("the C port does not behave like the AssemblyScript counter");
  await approve(world, proposalId, approver);
  const { manifestHash } = await apply(world, proposalId);
  say(`approved by ops and applied: manifest ${manifestHash}`);
  await world.send("demo/CounterEvent@1", { key: "alice", by: 1 });
  say(
    `alice after one more event, now stepped by the C module: ${JSON.stringify(world.cellState("demo/Counter@1", "alice"))}`,
  );
  const root = world.stateRefs().state_root;
  await world.close();
  const r = await replayWorld(dir);
  say(
    `replay across the apply: ${r.ok ? "ok" : "DIVERGED"}, state root ${r.state_root === root ? "= live" : "≠ live!"}`,
  );
  if (!r.ok || r.state_root !== root) throw new Error("replay across the apply diverged");
}
