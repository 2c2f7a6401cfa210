/**
 * @module The kernel's state as plain declarations: `KernelState` (what replay must rebuild),
 * `PendingIntent` and `EventBody`. A leaf: it imports types only, from air, core, the journal's
 * entry schemas and `flags.ts`, so the transition, its shell and the world's ports share it.
 */
import type { HashText } from "../../air/hash.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { BudgetLedger } from "../core/budget.js";
import type { CellKey, CellStore } from "../core/cells.js";
import type { EntryBodies } from "../journal/entries.js";
import type { Behaviour } from "./flags.js";

/** An `event` entry body. */
export type EventBody = EntryBodies["event"];

/** An intent the gate let through (or holds for approval), awaiting its receipt. */
export interface PendingIntent {
  intentId: HashText;
  kind: string;
  params: CborValue;
  paramsHash: HashText;
  capSlot: string;
  grant: string;
  capType: string;
  module: string;
  key: CellKey;
  causeSeq: number;
  estimate: { tokens: number; cents: number };
  waiting: "dispatch" | "approval";
  /** validity-v1: not performed after this time (ns). */
  validUntilNs?: bigint;
}

/** Everything replay must rebuild: cells, budgets, pending intents, logical clock. */
export interface KernelState {
  worldId: string;
  catalog: AirCatalog;
  /** CAS blob of the catalog's defs (genesis air_ref, or the bundle of the last applied proposal). */
  airRef: HashText;
  cells: CellStore;
  ledger: BudgetLedger;
  pending: Map<string, PendingIntent>;
  logicalNow: number;
  /** What the genesis flags switch on (event identity, cascade bounds); fixed for the world's life. */
  behaviour: Behaviour;
}

/** The cell store's read side. */
export type CellReader = Pick<CellStore, "get" | "list" | "listModule" | "size" | "stateRoot" | "clone">;

/**
 * The kernel state as everything outside the transition sees it: read-only. Only the transition
 * (kernel/transition/transition.ts, driven by its shell's processor) changes a `KernelState`;
 * the World, governance, shadow, the server and the CLI read it through this view.
 */
export interface StateView {
  readonly worldId: string;
  readonly catalog: AirCatalog;
  readonly airRef: HashText;
  readonly cells: CellReader;
  readonly ledger: Pick<BudgetLedger, "spend" | "wouldExceed" | "toCbor">;
  readonly pending: ReadonlyMap<string, Readonly<PendingIntent>>;
  readonly logicalNow: number;
  readonly behaviour: Behaviour;
}
