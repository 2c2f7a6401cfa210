/**
 * @module The self-upgrade part of `wk demo` (worlds/self-upgrade): an agent module, asked to
 * greet otherwise, writes its own new source, compiles it and proposes the binary for itself
 * (`governance.upgrade`); one approval is not enough, two of three approvers apply it, the new
 * greeting is live, and verify and replay cross the apply. Without the optional AssemblyScript
 * compiler the compile receipt is `toolchain_missing` and the tour says so and stops there.
 */
import { join } from "node:path";
import { buildCatalogOrThrow, type AirCatalog } from "../../../air/loader.js";
import type { CborObject } from "../../../air/cbor/value.js";
import type { AnyDef, DefPolicy } from "../../../air/schemas/defs.js";
import { generateKeyPair, saveKeyPair, type KeyPair } from "../../../kernel/crypto/keys.js";
import { worldPaths } from "../../../kernel/journal/index.js";
import { missingPeers } from "../../../kernel/packages.js";
import {
  apply,
  approve,
  createWorld,
  replayWorld,
  shadow,
  sourceFromAirDir,
  verifyWorld,
  type World,
  type WorldSource,
} from "../../../kernel/world/index.js";
import { defaultAdapters } from "../../../kernel/world/wiring.js";
import { REPO_ROOT, say, step } from "./say.js";

/** The agent module's name in worlds/self-upgrade. */
export const AGENT = "demo/Agent@1";

/** worlds/self-upgrade with its three placeholder approver keys replaced by `approverHexes` (ops, audit, security). */
export function selfUpgradeSource(approverHexes: readonly string[]): {
  catalog: AirCatalog;
  wasm: WorldSource["wasm"];
} {
  const src = sourceFromAirDir(join(REPO_ROOT, "worlds/self-upgrade"));
  const defs = src.catalog.sources.map((d): AnyDef => {
    // The manifest's policy refs carry the old policy's hash: name them only, the loader hashes anew.
    if (d.$kind === "manifest") return { ...d, policies: (d.policies ?? []).map((r) => ({ name: r.name })) };
    if (d.$kind !== "defpolicy" || !d.approvers) return d;
    const approvers = d.approvers.map((a, i) => ({ ...a, public_key: approverHexes[i] ?? a.public_key }));
    return { ...d, approvers } as DefPolicy;
  });
  return { catalog: buildCatalogOrThrow([{ file: "self-upgrade", value: defs }]), wasm: src.wasm };
}

/** The agent cell's state (demo/AgentState@1). */
export function agentState(world: World, key = "agent"): CborObject {
  return world.cellState(AGENT, key) as CborObject;
}

/** Runs the self-upgrade tour in `base/self-upgrade`. */
export async function selfUpgradeTour(base: string, first: number): Promise<void> {
  step(`${first}. Self-upgrade: an agent compiles a new version of itself and proposes it; two of three approve`);
  const names = ["ops", "audit", "security"];
  const keys: KeyPair[] = names.map((n) => {
    const k = generateKeyPair();
    saveKeyPair(join(base, `${n}.key`), k);
    return k;
  });
  const dir = join(base, "self-upgrade");
  const world = await createWorld(dir, selfUpgradeSource(keys.map((k) => k.publicKeyHex)), {
    adapters: defaultAdapters(),
  });
  await world.send("demo/Work@1", { key: "agent", name: "ada" });
  say(`work, before: ${String(agentState(world).last)}`);
  await world.send("demo/UpgradeRequest@1", { key: "agent", greeting: "Howdy" });
  const asked = agentState(world);
  if (asked.phase !== "proposed") {
    const absent = missingPeers(["assemblyscript", "@extism/as-pdk"]);
    const errors = asked.errors as string[];
    await world.close();
    if (absent && errors.some((e) => e.includes("toolchain_missing"))) {
      say(
        `self-upgrade step skipped: this install has no AssemblyScript compiler (optional peers), so the agent's compile receipt is an error (toolchain_missing); \`${absent.install}\` enables it`,
      );
      return;
    }
    throw new Error(`the agent did not propose its upgrade: ${errors.join("; ")}`);
  }
  const id = asked.proposal_id as string;
  say(`"greet with Howdy": the agent stored its new source (${String(asked.source_ref)}),`);
  say(`compiled it (${String(asked.wasm_ref)}) and proposed it: ${id}`);
  const { report } = await shadow(world, id);
  say(
    `shadow run over ${report.events} recorded events: ${report.cells.length} cell(s) end differently, ${report.failures.length} step(s) fail`,
  );
  await approve(world, id, keys[0]!);
  try {
    await apply(world, id);
    throw new Error("one approval applied a proposal that needs two");
  } catch (e) {
    if ((e as { code?: string }).code !== "governance.not_approved") throw e;
    say(`approved by ops; apply refused: governance.not_approved (1 of 2)`);
  }
  await approve(world, id, keys[1]!);
  const { manifestHash } = await apply(world, id);
  say(`approved by audit and applied: manifest ${manifestHash}`);
  await world.send("demo/Work@1", { key: "agent", name: "grace" });
  say(`work, after: ${String(agentState(world).last)}`);
  const root = world.stateRefs().state_root;
  await world.checkpoint();
  await world.close();
  const v = await verifyWorld(worldPaths(dir).journal);
  const r = await replayWorld(dir);
  say(
    `verify: ${v.ok ? "ok" : `FAILED (${v.message ?? ""})`}; replay from genesis: ${r.ok ? "ok" : "DIVERGED"}, state root ${r.state_root === root ? "= live" : "≠ live!"}`,
  );
  if (!v.ok || !r.ok || r.state_root !== root) throw new Error("the self-upgraded world does not verify or replay");
}
