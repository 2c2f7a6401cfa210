/**
 * @module Journal entry kinds and their bodies (zod schemas over the CBOR data model).
 * Bodies are validated on append and again on read during verify. genesis, checkpoint,
 * erasure and snapshot are fixed here; the other kinds are checked for the fields every
 * consumer relies on and otherwise left open for the kernel to refine.
 */
import { z } from "zod";
import { HASH_PATTERN, isCborObject, jsonPath, type CborMap, type CborObject, type CborValue } from "../../air/index.js";
import { isStrongPublicKey } from "../crypto/sign.js";
import { JournalError } from "./errors.js";

/** Every entry kind, in no particular order. */
export const ENTRY_KINDS = [
  "genesis",
  "event",
  "step",
  "effect_intent",
  "effect_receipt",
  "policy_decision",
  "proposal",
  "shadow_report",
  "approval",
  "apply",
  "snapshot",
  "checkpoint",
  "erasure",
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** Journal format version recorded in genesis; bump it with any change to hashing or layout. */
export const JOURNAL_FORMAT_VERSION = 1;

const cbor = z.custom<CborValue>(() => true);
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "must be bytes");
const bytes32 = bytes.refine((b) => b.length === 32, "must be 32 bytes");
const int = z.union([z.number().int(), z.bigint()]);
const nat = z.union([z.number().int().nonnegative(), z.bigint().nonnegative()]);
const seqNum = z.number().int().nonnegative();
const hashText = z.string().regex(HASH_PATTERN, "must be sha256:<64 hex>");
// Maps are checked for shape only: their contents are any CBOR, and walking them here would
// cost more than the rest of the append (the encoder rejects what CBOR cannot carry).
const map = z.custom<CborObject | CborMap>((v) => v instanceof Map || isCborObject(v), "must be a map");
const key = z.union([z.null(), z.string(), bytes]);

export const GenesisBody = z.strictObject({
  format_version: z.literal(JOURNAL_FORMAT_VERSION),
  world_id: z.string().min(1),
  world_public_key: bytes32.refine(isStrongPublicKey, "must be an ed25519 public key (canonical, not of small order)"),
  manifest_hash: hashText,
  /** CAS blob holding every AIR def of the initial manifest (the kernel rebuilds its catalog from it). */
  air_ref: hashText.exactOptional(),
  created_ns: int,
  kernel_flags: z.array(z.string()),
  fork: z.union([z.null(), z.strictObject({ parent_world_id: z.string().min(1), seq: seqNum, head_hash: bytes32 })]),
});

export const CheckpointBody = z.strictObject({
  tree_size: seqNum,
  root: bytes32,
  head_hash: bytes32,
  state_root: hashText,
  manifest_hash: hashText,
  signature: bytes.refine((b) => b.length === 64, "must be 64 bytes"),
});

export const ErasureBody = z.strictObject({ blob_hash: hashText, reason: z.string().min(1) });

export const SnapshotBody = z.strictObject({ state_root: hashText, cells_ref: hashText, height: nat, manifest_hash: hashText });

export const EventBody = z.strictObject({ schema: z.string().min(1), value: cbor, key, ctx: map, origin: map });

export const StepBody = z.strictObject({
  module: z.string().min(1),
  key,
  cause_seq: seqNum,
  ok: z.boolean(),
  state_hash: z.union([z.null(), hashText]),
  events: nat,
  intents: z.array(z.string()),
  error: z.union([z.null(), z.looseObject({ code: z.string(), message: z.string() })]),
  fuel: nat,
});

const intentId = z.string().min(1);
export const EffectIntentBody = z.looseObject({ intent_id: intentId });
export const EffectReceiptBody = z.looseObject({ intent_id: intentId });
export const PolicyDecisionBody = z.looseObject({ intent_id: intentId, decision: z.enum(["allow", "deny", "require_approval"]) });
const governance = z.looseObject({ proposal_id: z.string().min(1) });

/** The schema of each kind's body. */
export const ENTRY_BODY_SCHEMAS = {
  genesis: GenesisBody,
  event: EventBody,
  step: StepBody,
  effect_intent: EffectIntentBody,
  effect_receipt: EffectReceiptBody,
  policy_decision: PolicyDecisionBody,
  proposal: governance,
  shadow_report: governance,
  approval: governance,
  apply: governance,
  snapshot: SnapshotBody,
  checkpoint: CheckpointBody,
  erasure: ErasureBody,
} as const satisfies Record<EntryKind, z.ZodType>;

/** The typed body of each kind. */
export type EntryBodies = { [K in EntryKind]: z.infer<(typeof ENTRY_BODY_SCHEMAS)[K]> };
export type GenesisBody = EntryBodies["genesis"];
export type CheckpointBody = EntryBodies["checkpoint"];
export type ErasureBody = EntryBodies["erasure"];
export type SnapshotBody = EntryBodies["snapshot"];

const kindSet: ReadonlySet<string> = new Set(ENTRY_KINDS);

/** True when `k` names an entry kind. */
export function isEntryKind(k: string): k is EntryKind {
  return kindSet.has(k);
}

/** A failed body check: where and why. */
export interface BodyIssue {
  kind: string;
  path: string;
  message: string;
}

/** Checks a body against its kind's schema; null when it conforms. */
export function checkEntryBody(kind: string, value: unknown): BodyIssue | null {
  if (!isEntryKind(kind)) return { kind, path: "$", message: `unknown entry kind "${kind}"` };
  const r = ENTRY_BODY_SCHEMAS[kind].safeParse(value);
  if (r.success) return null;
  const issue = r.error.issues[0]!;
  return { kind, path: jsonPath(issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))), message: issue.message };
}

/** Validates a body for `kind` and returns it typed; throws `journal.bad_body` naming the path. */
export function parseEntryBody<K extends EntryKind>(kind: K, value: unknown, seq?: number): EntryBodies[K] {
  const issue = checkEntryBody(kind, value);
  if (issue !== null) {
    if (!isEntryKind(kind)) throw new JournalError("journal.bad_kind", issue.message, { kind, ...(seq === undefined ? {} : { seq }) });
    throw new JournalError("journal.bad_body", `${kind} body: ${issue.message} at ${issue.path}`, { kind, body_path: issue.path, ...(seq === undefined ? {} : { seq }) });
  }
  return value as EntryBodies[K];
}
