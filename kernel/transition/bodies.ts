/**
 * @module The entry bodies the transition writes and reads, and the identities they carry:
 * event identity (before and after identity-v2), an intent's deadline (validity-v1), a gate
 * decision's journaled form and the pending intent an intent and its decision imply. Pure
 * functions of their arguments.
 */
import { hashValue, type HashText } from "../../air/hash.js";
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { CellKey } from "../core/cells.js";
import type { GateDecision } from "../core/gate.js";
import type { EntryBodies, GateDecisionBody } from "../journal/entries.js";
import { DEFAULT_INTENT_TTL_NS } from "./flags.js";
import type { PendingIntent } from "./state.js";

/** Schema of the event that carries a receipt back to the module that asked. */
export const RECEIPT_EVENT_SCHEMA = "sys/EffectReceiptEnvelope@1";
/** Adapter id on receipts the gate itself issues for denied intents. */
export const GATE_ADAPTER = { id: "kernel.gate", version: "1" } as const;
/** Adapter id of the receipts the kernel issues for expired intents (signed by the world key). */
export const EXPIRY_ADAPTER = { id: "kernel.expiry", version: "1" } as const;

/** True for a receipt the gate issued for a denied intent. */
export function isGateDenial(body: CborValue): boolean {
  const env = isCborObject(body) ? body.receipt : undefined;
  return isCborObject(env) && env.adapter_id === GATE_ADAPTER.id && env.status === "denied";
}

/** validity-v1: an intent's deadline — its step's time plus the grant's TTL, never past the grant's expiry. */
export function validUntilOf(catalog: AirCatalog, grant: string | null, nowNs: bigint): bigint {
  const g = grant === null ? undefined : catalog.grants.get(grant)?.grant;
  const ttl = g?.intent_ttl_ns === undefined ? DEFAULT_INTENT_TTL_NS : BigInt(g.intent_ttl_ns);
  const until = nowNs + ttl;
  return g?.expiry_ns === undefined ? until : until < BigInt(g.expiry_ns) ? until : BigInt(g.expiry_ns);
}

/**
 * The pending intent an `effect_intent` entry and its (allow or require_approval) gate decision
 * imply: what the transition keeps after the step, rebuilt from the journal (adopted steps,
 * the journal rules' derived book).
 */
export function pendingFromEntries(
  intent: EntryBodies["effect_intent"],
  d: EntryBodies["policy_decision"],
): PendingIntent {
  const gate = d as GateDecisionBody;
  return {
    intentId: intent.intent_id as HashText,
    kind: intent.kind,
    params: intent.params,
    paramsHash: intent.params_hash as HashText,
    capSlot: intent.cap_slot,
    grant: intent.grant!,
    capType: gate.cap_type!,
    module: intent.module,
    key: intent.key,
    causeSeq: intent.cause_seq,
    estimate: { tokens: Number(gate.estimate.tokens), cents: Number(gate.estimate.cents) },
    waiting: d.decision === "allow" ? "dispatch" : "approval",
    ...(intent.valid_until_ns === undefined ? {} : { validUntilNs: BigInt(intent.valid_until_ns) }),
  };
}

/** The identity of an ingress event under identity-v2: its schema, value and the seq it was journaled at. */
export function ingressEventHash(schema: string, value: CborValue, seq: number): HashText {
  return hashValue({ schema, value, key: null, ingress_seq: seq });
}

/** The identity of an event before identity-v2: sha256 of its canonical {schema, value, key}. */
export function eventHash(schema: string, value: CborValue, key: CellKey): HashText {
  return hashValue({ schema, value, key });
}

/** The journaled form of a gate decision. */
export function decisionBody(d: GateDecision): GateDecisionBody {
  return {
    intent_id: d.intentId,
    decision: d.decision,
    stage: d.stage,
    code: d.code,
    reason: d.reason,
    grant: d.grant,
    cap_type: d.capType,
    policy: d.policy,
    rule_index: d.ruleIndex,
    estimate: { tokens: d.estimate.tokens, cents: d.estimate.cents },
  };
}

/** True for an event body that entered from outside (and so starts a batch in replay). */
export function isInputEvent(body: CborValue): boolean {
  return isCborObject(body) && isCborObject(body.origin) && body.origin.kind === "ingress";
}
