/**
 * @module Journal entry kinds and their bodies (zod schemas over the CBOR data model).
 * Bodies are validated on append and again on read during verify. genesis, checkpoint,
 * erasure and snapshot are fixed here; the other kinds are checked for the fields every
 * consumer relies on and otherwise left open for the kernel to refine.
 */
import { z } from "zod";
import { HASH_PATTERN } from "../../air/hash.js";
import { isCborObject, type CborMap, type CborObject, type CborValue } from "../../air/cbor/value.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { jsonPath } from "../../air/errors.js";
import type { EffectReceiptBody as StrictReceiptBody } from "../crypto/receipt.js";
import { isStrongPublicKey } from "../crypto/sign.js";
import { JournalError } from "./errors.js";

export { ENTRY_KINDS, type EntryKind } from "./entry-kinds.js";
import { ENTRY_KINDS, type EntryKind } from "./entry-kinds.js";

/**
 * Journal format version recorded in genesis; bump it with any change to hashing, layout or
 * the meaning of a body. 2: genesis declares the adapter keys and the checkpoint cadence,
 * `keys` entries rotate adapter keys, every governance and gate body is strict, proposals
 * bind their proposer. Version 1 journals stay readable (see README, "Journal formats").
 */
export const JOURNAL_FORMAT_VERSION = 2;

/** The oldest journal format this kernel still reads and replays. */
export const OLDEST_JOURNAL_FORMAT = 1;

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

const publicKey = bytes32.refine(isStrongPublicKey, "must be an ed25519 public key (canonical, not of small order)");

/** A key the world declares for an adapter: receipts must be signed by a declared key. */
export const DeclaredKey = z.strictObject({ id: z.string().min(1).max(64), public_key: publicKey });
const declaredKeys = z
  .array(DeclaredKey)
  .max(64)
  .refine((ks) => new Set(ks.map((k) => k.id)).size === ks.length, "adapter key ids must be distinct");

const genesisCommon = {
  world_id: z.string().min(1),
  world_public_key: publicKey,
  manifest_hash: hashText,
  /** CAS blob holding every AIR def of the initial manifest (the kernel rebuilds its catalog from it). */
  air_ref: hashText.exactOptional(),
  created_ns: int,
  kernel_flags: z.array(z.string()),
  fork: z.union([z.null(), z.strictObject({ parent_world_id: z.string().min(1), seq: seqNum, head_hash: bytes32 })]),
};

const GenesisV1 = z.strictObject({ format_version: z.literal(1), ...genesisCommon });
const GenesisV2 = z.strictObject({
  format_version: z.literal(2),
  ...genesisCommon,
  /** The adapter keys in force from genesis on (a `keys` entry replaces them). */
  adapter_keys: declaredKeys,
  /** Signed checkpoint cadence in entries (0: only at a clean close); part of the world's behaviour, so it lives here, not in config. */
  checkpoint_every: seqNum,
});

export const GenesisBody = z.discriminatedUnion("format_version", [GenesisV1, GenesisV2]);

/** Adapter key rotation: the new set of declared adapter keys, signed by the world key (purpose `keys`). */
export const KeysBody = z.strictObject({
  adapter_keys: declaredKeys,
  signature: bytes.refine((b) => b.length === 64, "must be 64 bytes"),
});

export const CheckpointBody = z.strictObject({
  tree_size: seqNum,
  root: bytes32,
  head_hash: bytes32,
  state_root: hashText,
  manifest_hash: hashText,
  signature: bytes.refine((b) => b.length === 64, "must be 64 bytes"),
});

export const ErasureBody = z.strictObject({
  blob_hash: hashText,
  reason: z.string().min(1),
  /** erasure-v1: this blob was erased because it derives from that one (a derived copy, an older cell state). */
  derived_from: hashText.exactOptional(),
  /** erasure-v1: the cells that read the blob (or derive from it), each told by a `sys/BlobErased@1` event. */
  notify: z.array(z.tuple([z.string().min(1), key])).exactOptional(),
});

export const SnapshotBody = z.strictObject({
  state_root: hashText,
  cells_ref: hashText,
  height: nat,
  manifest_hash: hashText,
});

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
  /** erasure-v1: the blobs the step read through `blob_get` (sorted, distinct; absent when none). */
  reads: z.array(hashText).exactOptional(),
  /** ann-v1: the module's annotation (its recorded reasoning), kept here when small… */
  ann: cbor.exactOptional(),
  /** …or as a CAS blob of its stored encoding… */
  ann_ref: hashText.exactOptional(),
  /** …or, over the limit, only its size in bytes. */
  ann_dropped: nat.exactOptional(),
});

const intentId = z.string().min(1);
const text = z.string();
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
const sig = bytes.refine((b) => b.length === 64, "must be 64 bytes");
const cellKey = key;

export const EffectIntentBody = z.strictObject({
  intent_id: intentId,
  idempotency_key: z.string().min(1),
  kind: z.string().min(1),
  params: cbor,
  params_hash: hashText,
  cap_slot: z.string(),
  grant: z.union([z.null(), z.string()]),
  module: z.string().min(1),
  key: cellKey,
  cause_seq: seqNum,
  index: seqNum,
  /** validity-v1: past this time (ns) the intent is not performed; it gets an `expired` receipt. */
  valid_until_ns: nat.exactOptional(),
});
// Receipts are checked in full (envelope, signature, payload hash) by kernel/crypto/receipt.ts
// (`checkEffectReceiptBody`, run by the journal rules on every verify); on append only the
// intent id is checked here, and loosening or tightening that would change what is accepted.
export const EffectReceiptBody = z.looseObject({ intent_id: intentId });
const GateDecision = z.strictObject({
  intent_id: intentId,
  decision: z.enum(["allow", "deny", "require_approval"]),
  stage: z
    .string()
    .min(1)
    .refine((s) => s !== "approval", "a gate decision's stage is never approval"),
  code: text,
  reason: text,
  grant: z.union([z.null(), z.string()]),
  cap_type: z.union([z.null(), z.string()]),
  policy: z.union([z.null(), z.string()]),
  rule_index: z.union([z.null(), seqNum]),
  estimate: z.strictObject({ tokens: nat, cents: nat }),
});
const HeldIntentDecision = z.strictObject({
  intent_id: intentId,
  decision: z.enum(["allow", "deny"]),
  stage: z.literal("approval"),
  approver: hex64,
  signature: sig,
});
export const PolicyDecisionBody = z.union([HeldIntentDecision, GateDecision]);

/** Who proposed: a signed key, a module through the `governance.propose` effect, or nobody (policy permitting). */
export const ProposerBody = z.union([
  z.null(),
  z.strictObject({ kind: z.literal("key"), public_key: hex64, signature: sig }),
  z.strictObject({ kind: z.literal("module"), module: z.string().min(1), intent_id: intentId }),
]);
export const ProposalBody = z.strictObject({
  proposal_id: hashText,
  patch_ref: hashText,
  base_manifest_hash: hashText,
  new_manifest_hash: hashText,
  bundle_ref: hashText,
  // Format 1 wrote the proposer's public key as bare hex, unsigned.
  proposer: z.union([ProposerBody, hex64]),
  description: z.union([z.null(), text]),
});
export const ShadowReportBody = z.strictObject({
  proposal_id: hashText,
  report_ref: hashText,
  report_hash: hashText,
  /** How many steps fail in the report (absent in reports journaled before failures blocked an apply: no rule applies to those). */
  failures: seqNum.exactOptional(),
});
export const ApprovalBody = z.strictObject({
  proposal_id: hashText,
  approver: hex64,
  patch_ref: hashText,
  /** The report approved: required on an approval, absent on a denial (which refuses the proposal whatever its reports; the journal rules hold both). */
  shadow_report_hash: hashText.exactOptional(),
  /** The approver approves a report with failing steps knowingly (signed; absent, never false, otherwise). */
  accept_failures: z.literal(true).exactOptional(),
  /** A denial of the proposal (signed with `reason`); absent on every approval, so those read as they always did. */
  decision: z.literal("deny").exactOptional(),
  /** Why the approver denies (a denial only). */
  reason: z.string().min(1).max(2000).exactOptional(),
  signature: sig,
});
export const ApplyBody = z.strictObject({
  proposal_id: hashText,
  new_manifest_hash: hashText,
  bundle_ref: hashText,
  approvals: z.array(hex64),
  /** The state migrations the apply ran (its patch's `migrations`), with the cells each rewrote and its fuel; absent when none. */
  migrations: z
    .array(
      z.strictObject({
        module: z.string(),
        migration: z.string(),
        cells: seqNum,
        fuel: seqNum,
      }),
    )
    .exactOptional(),
  /** With `migrations`: the state root after them, which replay must reproduce. */
  state_root: hashText.exactOptional(),
});

/** The schema of each kind's body. */
export const ENTRY_BODY_SCHEMAS = {
  genesis: GenesisBody,
  event: EventBody,
  step: StepBody,
  effect_intent: EffectIntentBody,
  effect_receipt: EffectReceiptBody,
  policy_decision: PolicyDecisionBody,
  proposal: ProposalBody,
  shadow_report: ShadowReportBody,
  approval: ApprovalBody,
  apply: ApplyBody,
  snapshot: SnapshotBody,
  checkpoint: CheckpointBody,
  erasure: ErasureBody,
  keys: KeysBody,
} as const satisfies Record<EntryKind, z.ZodType>;

/** What each kind's schema checks on append and on read: `parseEntryBody` returns these. */
export type WireBodies = { [K in EntryKind]: z.infer<(typeof ENTRY_BODY_SCHEMAS)[K]> };

/**
 * The body of an `effect_receipt` entry: the adapter's signed envelope, the signature, the
 * adapter's public key and the payload. Its wire schema above checks only `intent_id`; the
 * kernel writes receipts through kernel/crypto/receipt.ts's strict schema and the journal
 * rules hold every receipt to it on verify, so a verified journal's receipts have this type.
 */
export type ReceiptBody = StrictReceiptBody;

/** The typed body of each kind, as the kernel writes it and a verified journal holds it (`WireBodies` with receipts in full). */
export type EntryBodies = Omit<WireBodies, "effect_receipt"> & { effect_receipt: ReceiptBody };

/** An entry with its body typed by its kind: `switch (e.kind)` narrows `e.body`. */
export type TypedEntry = { [K in EntryKind]: { seq: number; kind: K; body: EntryBodies[K] } }[EntryKind];

/** A kind with its body typed by it (an entry not yet appended, or one whose seq is beside the point). */
export type TypedBody = { [K in EntryKind]: { kind: K; body: EntryBodies[K] } }[EntryKind];
export type GenesisBody = EntryBodies["genesis"];
export type CheckpointBody = EntryBodies["checkpoint"];
export type ErasureBody = EntryBodies["erasure"];
export type SnapshotBody = EntryBodies["snapshot"];
export type KeysBody = EntryBodies["keys"];
export type ProposalBody = EntryBodies["proposal"];
export type ShadowReportBody = EntryBodies["shadow_report"];
export type ApprovalBody = EntryBodies["approval"];
export type ApplyBody = EntryBodies["apply"];
/** An approver's signed decision on a held intent (a `policy_decision` entry at stage `approval`). */
export type HeldDecisionBody = z.infer<typeof HeldIntentDecision>;
/** The gate's decision on an intent (a `policy_decision` entry at any other stage). */
export type GateDecisionBody = z.infer<typeof GateDecision>;
export type DeclaredKey = z.infer<typeof DeclaredKey>;

/** The adapter keys a genesis declares (format 1 declared none). */
export function genesisAdapterKeys(g: GenesisBody): DeclaredKey[] {
  return g.format_version === 1 ? [] : g.adapter_keys;
}

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
  return {
    kind,
    path: jsonPath(issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))),
    message: issue.message,
  };
}

/** Validates a body for `kind` and returns it typed by its schema; throws `journal.bad_body` naming the path. */
export function parseEntryBody<K extends EntryKind>(kind: K, value: unknown, seq?: number): WireBodies[K] {
  const issue = checkEntryBody(kind, value);
  if (issue !== null) {
    if (!isEntryKind(kind))
      throw new JournalError("journal.bad_kind", issue.message, { kind, ...(seq === undefined ? {} : { seq }) });
    throw new JournalError("journal.bad_body", `${kind} body: ${issue.message} at ${issue.path}`, {
      kind,
      body_path: issue.path,
      ...(seq === undefined ? {} : { seq }),
    });
  }
  return value as WireBodies[K];
}

/**
 * The entry with its body decoded and typed by its kind: the one place the kernel reads an
 * entry's body. It decodes and does not re-parse with zod: every body was schema-checked on
 * append and is checked again, with the journal rules, by verify (run on open), so parsing
 * here would cost the hot paths (replay, shadow, audit) a second check for nothing. Given an
 * entry whose kind is known (`{ ...e, kind: "apply" }` after a check), the result is of that kind.
 */
export function decodeEntry<K extends EntryKind>(e: {
  seq: number;
  kind: K;
  body: Uint8Array;
}): Extract<TypedEntry, { kind: K }> {
  return { seq: e.seq, kind: e.kind, body: decodeStored(e.body) } as Extract<TypedEntry, { kind: K }>;
}

/**
 * A decoded body typed by its kind: for bodies already decoded and checked (verify's
 * `DecodedEntry.value`) or built by the kernel itself (a `Batch`'s entries, pushed typed).
 */
export function typedBody(kind: EntryKind, body: CborValue): TypedBody {
  return { kind, body } as TypedBody;
}

/** True for an approver's decision on a held intent (stage `approval`, which a gate decision never has). */
export function isHeldDecision(d: EntryBodies["policy_decision"]): d is HeldDecisionBody {
  return d.stage === "approval";
}
