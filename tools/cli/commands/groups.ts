/**
 * @module The `wk` command groups: which top-level commands each file defines, with the
 * one-line summary `wk --help` lists, and how to load the file. `wk <command>` imports only
 * the group that owns it (see main.ts); a test holds these tables to what the files register.
 */
import type { Command } from "commander";

/** One file of commands. */
export interface CommandGroup {
  /** Top-level command name → summary (the registered command's description). */
  commands: Record<string, string>;
  /** Registers the group's commands on `program`. */
  load(program: Command): Promise<void>;
}

/** Every command group, in `wk --help` order. */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    commands: {
      create: "create a world from an AIR folder (genesis, keys, module binaries)",
      send: "append one event (validated against its schema) and run until idle; exit 1 when any step of its cascade fails",
      run: "resume: re-dispatch pending intents (same idempotency keys) and fire due timers",
      replay:
        "rebuild the world with a fresh kernel from its journal, calling no adapter; stop at the first divergence",
      fork: "create a new world sharing history with this one up to --at, then diverging",
    },
    load: async (p) => (await import("./world.js")).registerWorld(p),
  },
  {
    commands: { state: "current state as JSON: every cell, one module's cells, or one cell" },
    load: async (p) => (await import("./state.js")).registerState(p),
  },
  {
    commands: {
      info: "what a world is: id, keys, head, last checkpoint, manifest, formats, kernel flags (from the journal; no replay, no module loaded)",
    },
    load: async (p) => (await import("./info.js")).registerInfo(p),
  },
  {
    commands: {
      verify: "recompute the hash chain, Merkle tree and every signature; name the first bad seq",
      checkpoint: "sign a checkpoint over every entry now, with the world key; prints it",
      anchor: "export a signed checkpoint (default: the latest) as an anchor JSON file to keep outside the world",
      erase: "delete a blob's bytes from the CAS and journal the erasure (chain and signatures stay valid)",
      log: "journal entries, decoded (bytes as hex)",
      keys: "ed25519 key files; adapter key rotation",
    },
    load: async (p) => {
      const { registerJournal } = await import("./journal.js");
      registerJournal(p);
    },
  },
  {
    commands: {
      analyze:
        "run the journal's detectors (retry storms, silent failures, delegation cycles, budget burn, stalled work, structural drift); exit 0 clean, 1 warnings, 2 critical",
    },
    load: async (p) => (await import("./analyze.js")).registerAnalyze(p),
  },
  {
    commands: {
      trace:
        "the causal tree an entry belongs to: ingress event, steps (with recorded reasoning), emitted events, intents, gate decisions with the rule that decided, approvals, receipts, follow-up steps",
      explain:
        "why the agent did this: the trigger, the state it saw, its recorded reasoning, the gate's decision and rule, approvals, the result and what followed",
    },
    load: async (p) => (await import("./trace.js")).registerTrace(p),
  },
  {
    commands: {
      receipt: "effect receipts: list, export as bundles, verify bundles offline",
      "approve-effect": "approve (or with --deny refuse) an intent held by a require_approval policy",
    },
    load: async (p) => {
      const [{ registerEffects }, { registerReceipt }] = await Promise.all([
        import("./effects.js"),
        import("./receipt.js"),
      ]);
      registerEffects(p, registerReceipt(p));
    },
  },
  {
    commands: {
      propose:
        "compile and validate a patch (or, with --from-air, the diff to an edited AIR folder) against the current manifest; prints the proposal id",
      shadow:
        "run the proposal over the world's history (or a window, or given events) with no adapter called, and report what differs from the world without it",
      approve: "sign an approval of a proposal's latest shadow report (approvers are named by the policy)",
      deny: "sign a denial of a proposal, with a reason: it can no longer be approved or applied (approvers are named by the policy)",
      apply: "apply an approved proposal whose base is still the current manifest",
      revert:
        "propose the inverse of the apply at that seq: a patch back to the defs in force before it (still shadowed, approved and applied)",
    },
    load: async (p) => (await import("./governance.js")).registerGovernance(p),
  },
  {
    commands: { air: "AIR definitions: check, hash, JSON Schema" },
    load: async (p) => (await import("./air.js")).registerAir(p),
  },
  {
    commands: { module: "WASM modules: build from source" },
    load: async (p) => (await import("./module.js")).registerModule(p),
  },
  {
    commands: {
      export:
        "write the world as one audit archive (entries, blobs, erasures, keys, anchors) that `wk audit` re-executes",
      audit:
        "rebuild an audit archive in a fresh directory with no secret key, verify it, re-execute it and compare the state root the checkpoints signed",
    },
    load: async (p) => (await import("./audit.js")).registerAudit(p),
  },
  {
    commands: {
      worker:
        "own worlds of a PostgreSQL store by lease with other nodes: journal their inbox, fire timers, take over dead nodes' worlds",
      enqueue: "hand events to the node that holds a PostgreSQL world (its durable inbox); acknowledged when committed",
      "migrate-store":
        "move a world's journal between its SQLite file and PostgreSQL, keeping hashes, signatures and state root",
    },
    load: async (p) => (await import("./cluster.js")).registerCluster(p),
  },
  {
    commands: {
      serve: "host worlds as a service: HTTP API, timers on time, approval console, Prometheus metrics",
    },
    load: async (p) => (await import("./serve.js")).registerServe(p),
  },
  {
    commands: {
      mcp: "serve worlds to an MCP client over stdio (tools: describe, send events, read state and journal, trace, verify, pending approvals, propose/shadow); over HTTP it is wk serve's /mcp",
    },
    load: async (p) => (await import("./mcp.js")).registerMcp(p),
  },
  {
    commands: {
      demo: "the end-to-end tour (worlds, replay, fork, verify, tamper detection, gated effects, offline receipts, governance), or `kyc`: the KYC world under eight attacks, with a verdict table",
    },
    load: async (p) => (await import("./demo.js")).registerDemo(p),
  },
];

/** The group that defines top-level command `name`, if any. */
export function groupOf(name: string): CommandGroup | undefined {
  return COMMAND_GROUPS.find((g) => Object.hasOwn(g.commands, name));
}
