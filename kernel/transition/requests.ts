/**
 * @module What the transition asks of the shell and what it gets back: a module call (the WASM
 * step or a migration) and a gate denial's signature. A leaf, so the transition and the
 * migration run share it without importing each other.
 */
import type { HashText } from "../../air/hash.js";
import type { AirCatalog } from "../../air/loader.js";
import type { GateDecision } from "../core/gate.js";
import type { EntryBodies } from "../journal/entries.js";

/** What a module call answered: its output, or a typed failure (a module that would not load included). */
export type CallResult =
  | { ok: true; output: Uint8Array; fuelUsed: number; reads: string[]; erasedReads: number }
  | { ok: false; error: { code: string; message: string }; fuelUsed: number; reads: string[]; erasedReads: number };

/** What the transition asks the shell to do; the shell resumes it with the answer. */
export type TransitionRequest =
  | {
      kind: "call";
      catalog: AirCatalog;
      module: string;
      input: Uint8Array;
      /** What host calls may read during the step (absent for a migration, which has none). */
      host?: { journalHeight: number; manifestHash: HashText };
    }
  | { kind: "sign_denial"; decision: GateDecision; effectKind: string; nowNs: bigint };

/** The shell's answer to a request. */
export type TransitionReply = CallResult | EntryBodies["effect_receipt"];

/** A generator of the transition's requests that ends with `T`. */
export type Transition<T> = Generator<TransitionRequest, T, TransitionReply>;
