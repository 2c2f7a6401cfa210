/**
 * @module What the journal's entries imply, kept without running a module: the state hash of
 * every cell (from `step` entries), the budget ledger, the pending intents and whether each
 * waits for dispatch or approval, the logical clock, and the manifest and AIR bundle in force.
 * It mirrors the processor's bookkeeping entry by entry, so a snapshot or checkpoint — caches
 * of exactly these — can be held to what the journal implies (derive before trust), and a
 * receipt for an intent that was never released can be named (`unapproved_dispatch`).
 */
import type { HashText } from "../../air/hash.js";
import { BudgetLedger } from "../core/budget.js";
import { cellId, stateRootOf, type CellTriple } from "../core/cells.js";
import {
  isHeldDecision,
  type EntryBodies,
  type GateDecisionBody,
  type HeldDecisionBody,
  type ReceiptBody,
  type TypedBody,
} from "../journal/index.js";
import { eventCtx, eventOrigin } from "./event-fields.js";
import type { SnapshotBlob } from "./snapshot-blob.js";
// Where replay and the journal rules have always found it.
export { readSnapshotBlob } from "./snapshot-blob.js";
import { EXPIRY_ADAPTER, GATE_ADAPTER, pendingFromEntries, type PendingIntent } from "./processor.js";

/** A fault the book finds: a stable fault name and a message. */
export interface BookFault {
  fault: "unapproved_dispatch" | "orphan_receipt";
  message: string;
}

/** The derived state, entry by entry. */
export class DerivedBook {
  airRef: HashText;
  manifestHash: HashText;
  logicalNow = 0;
  ledger = new BudgetLedger();
  /** Cell id → [module, key, state hash]; exact unless a migration rewrote cells the journal does not list. */
  readonly cells = new Map<string, CellTriple>();
  /** False after an apply that migrated cells: their new hashes are only in the CAS, not in entries. */
  cellsExact = true;
  readonly pending = new Map<string, PendingIntent>();
  /** Intents the gate or an approver refused: only the kernel's denial may settle them. */
  private readonly refused = new Set<string>();
  private readonly intents = new Map<string, EntryBodies["effect_intent"]>();

  constructor(airRef: HashText, manifestHash: HashText) {
    this.airRef = airRef;
    this.manifestHash = manifestHash;
  }

  /** A book that starts at a snapshot the caller trusts (covered by a verified checkpoint, or a fork's base). */
  static fromSnapshot(blob: SnapshotBlob, airRef: HashText, manifestHash: HashText): DerivedBook {
    const b = new DerivedBook(blob.air_ref ?? airRef, manifestHash);
    for (const t of blob.cells) b.cells.set(cellId(t[0], t[1]), t);
    b.ledger = BudgetLedger.fromCbor(blob.ledger ?? null);
    for (const p of blob.pending) b.pending.set(p.intentId, p);
    b.logicalNow = Number(blob.logical_now);
    return b;
  }

  /** The state root the cells imply. */
  stateRoot(): HashText {
    return stateRootOf([...this.cells.values()]);
  }

  /** Takes in one entry (decoded, typed body); returns a fault when it settles an intent that was never released. */
  observe(e: TypedBody): BookFault | null {
    switch (e.kind) {
      case "event": {
        if (eventOrigin(e.body).kind === "ingress") this.logicalNow = Number(eventCtx(e.body).logical_now);
        return null;
      }
      case "step": {
        const v = e.body;
        if (v.ok !== true) return null;
        const id = cellId(v.module, v.key);
        if (v.state_hash === null) this.cells.delete(id);
        else this.cells.set(id, [v.module, v.key, v.state_hash as HashText]);
        return null;
      }
      case "effect_intent":
        this.intents.set(e.body.intent_id, e.body);
        return null;
      case "policy_decision":
        return isHeldDecision(e.body) ? this.held(e.body) : this.decided(e.body);
      case "effect_receipt":
        return this.receipt(e.body);
      case "apply":
        this.airRef = e.body.bundle_ref as HashText;
        this.manifestHash = e.body.new_manifest_hash as HashText;
        if (e.body.migrations !== undefined) this.cellsExact = false;
        return null;
      default:
        return null;
    }
  }

  /** A snapshot whose cells could not be derived (after a migration) re-synchronises the cells from it. */
  adoptCells(blob: SnapshotBlob): void {
    this.cells.clear();
    for (const t of blob.cells) this.cells.set(cellId(t[0], t[1]), t);
    this.cellsExact = true;
  }

  private decided(d: GateDecisionBody): null {
    const id = d.intent_id;
    const intent = this.intents.get(id);
    this.intents.delete(id);
    if (d.decision === "deny" || intent === undefined) {
      this.refused.add(id);
      return null;
    }
    const p = pendingFromEntries(intent, d);
    if (p.waiting === "dispatch") this.ledger.allow(id, p.grant, p.estimate);
    this.pending.set(id, p);
    return null;
  }

  private held(v: HeldDecisionBody): null {
    const id = v.intent_id;
    const p = this.pending.get(id);
    if (p === undefined || p.waiting !== "approval") return null;
    if (v.decision === "allow") {
      this.ledger.allow(id, p.grant, p.estimate);
      p.waiting = "dispatch";
    } else {
      this.pending.delete(id);
      this.refused.add(id);
    }
    return null;
  }

  /** A receipt the journal rules already held to its full schema (kernel/crypto/receipt.ts). */
  private receipt(v: ReceiptBody): BookFault | null {
    const id = v.intent_id;
    const env = v.receipt;
    const adapter = env.adapter_id;
    const p = this.pending.get(id);
    if (p === undefined) {
      if (!this.refused.has(id))
        return {
          fault: "orphan_receipt",
          message: `a receipt for intent ${id}, which is not pending (never issued, or already settled)`,
        };
      if (adapter !== GATE_ADAPTER.id)
        return unapproved(
          `a receipt from ${adapter} for intent ${id}, which was refused: only the gate's denial settles it`,
        );
      this.refused.delete(id);
      return null; // the gate's denial of a refused intent
    }
    // validity-v1: a held intent past its deadline is settled by the kernel's expiry receipt, never performed.
    if (p.waiting === "approval" && !(adapter === EXPIRY_ADAPTER.id && env.status === "expired"))
      return unapproved(`a receipt from ${adapter} for intent ${id}, which was held for approval and never approved`);
    this.pending.delete(id);
    const cost = env.cost;
    this.ledger.settle(id, {
      tokens: Number(cost.tokens_in) + Number(cost.tokens_out),
      cents: Number(cost.cents),
    });
    this.logicalNow++;
    return null;
  }
}

function unapproved(message: string): BookFault {
  return { fault: "unapproved_dispatch", message };
}
