/**
 * @module Offline verification of a receipt bundle. Needs nothing but the bundle (and
 * optionally a pinned world key): no world directory, no SQLite, no WASM, no node:crypto
 * signatures — ed25519 and Merkle checks run on @noble alone. Each failure names a stable
 * fault; checks run in a fixed order so a given tampering always reports the same fault.
 */
// Leaf modules of air (not its index): the offline verifier must not load the AIR loader.
import { decodeStored } from "../../air/cbor/decode.js";
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { hashBytes } from "../../air/hash.js";
import {
  BUNDLE_FORMAT_V1,
  bundleEntryHash,
  checkpointSigningPayload,
  ReceiptBundleSchema,
  type ReceiptBundle,
} from "./bundle.js";
import { keysSignatureValid, type DeclaredKeyBytes } from "./key-declaration.js";
import { bytesEqual, verifyEntryInclusion } from "./merkle-verify.js";
import {
  checkEffectReceiptBody,
  WORLD_SIGNED_ADAPTERS,
  type EffectReceiptBody,
  type ReceiptEnvelope,
} from "./receipt.js";
import { verifyPure } from "./sign.js";

/** Why a bundle failed verification. */
export type BundleFault =
  | "malformed_bundle"
  | "entry_hash_mismatch"
  | "bad_entry_body"
  | "world_id_mismatch"
  | "bad_receipt_signature"
  | "payload_mismatch"
  | "bad_inclusion_proof"
  | "bad_checkpoint_signature"
  | "world_key_mismatch"
  | "adapter_key_mismatch"
  | "undeclared_signer"
  | "bad_declaration";

/** A verified bundle's facts, or the first fault found. */
export type BundleVerdict =
  | {
      ok: true;
      receipt: ReceiptEnvelope;
      payload: CborValue;
      world_id: string;
      world_public_key: string;
      adapter_public_key: string;
      seq: number;
      checkpoint: { seq: number; tree_size: number; root: string };
    }
  | { ok: false; fault: BundleFault; message: string };

/** Keys the caller trusts; a mismatch fails even when every signature is valid. */
export interface VerifyBundleOptions {
  worldPublicKey?: string | Uint8Array;
  adapterPublicKey?: string | Uint8Array;
}

const hx = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const keyHex = (k: string | Uint8Array): string => (typeof k === "string" ? k.toLowerCase() : toHex(k));
const fail = (fault: BundleFault, message: string): BundleVerdict => ({ ok: false, fault, message });

/** A declared adapter key as stored: `{id: text, public_key: 32 bytes}`. */
function isDeclaredKey(k: CborValue): boolean {
  if (k === null || typeof k !== "object") return false;
  const { id, public_key } = k as Record<string, CborValue | undefined>;
  return typeof id === "string" && public_key instanceof Uint8Array && public_key.length === 32;
}

/** The adapter keys the bundle's declaration entry declares, or why the declaration does not hold. */
function checkDeclaration(
  b: ReceiptBundle,
  worldKey: Uint8Array,
  root: Uint8Array,
  receiptSeq: number,
): DeclaredKeyBytes[] | string {
  const d = b.declaration!;
  const body = hx(d.entry.body_cbor);
  const hash = hx(d.entry.hash);
  if (d.entry.seq > receiptSeq)
    return `the declaration at seq ${d.entry.seq} comes after the receipt at seq ${receiptSeq}`;
  if ((d.entry.kind === "genesis") !== (d.entry.seq === 0))
    return `a ${d.entry.kind} declaration cannot sit at seq ${d.entry.seq}`;
  if (!bytesEqual(bundleEntryHash(hx(d.entry.prev_hash), d.entry.seq, d.entry.kind, body), hash))
    return `declaration entry ${d.entry.seq} does not hash to ${d.entry.hash}`;
  if (
    d.inclusion.leaf_index !== d.entry.seq ||
    d.inclusion.tree_size !== b.checkpoint.tree_size ||
    !verifyEntryInclusion(hash, d.entry.seq, d.inclusion.tree_size, d.inclusion.path.map(hx), root)
  ) {
    return `the declaration entry ${d.entry.seq} is not proven under the checkpoint's root`;
  }
  let v: CborValue;
  try {
    v = decodeStored(body);
  } catch (e) {
    return `declaration body is not stored canonical CBOR: ${(e as Error).message}`;
  }
  const rec =
    v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? (v as Record<string, CborValue>)
      : {};
  const keys = rec.adapter_keys;
  const valid = Array.isArray(keys) && keys.every(isDeclaredKey);
  if (d.entry.kind === "genesis") {
    if (
      rec.world_id !== b.world_id ||
      !(rec.world_public_key instanceof Uint8Array) ||
      toHex(rec.world_public_key) !== b.world_public_key
    )
      return "the genesis in the bundle names another world or world key";
    if (rec.format_version === 1) return [];
    if (!valid) return "genesis declares no adapter keys";
    return keys as unknown as DeclaredKeyBytes[];
  }
  if (!valid || !(rec.signature instanceof Uint8Array)) return "the keys entry is malformed";
  if (
    !keysSignatureValid(b.world_id, d.entry.seq, keys as unknown as DeclaredKeyBytes[], rec.signature, worldKey, true)
  )
    return "the keys rotation is not signed by the world key";
  return keys as unknown as DeclaredKeyBytes[];
}

/** Verifies a bundle given as JSON text or an already-parsed value. Never throws. */
export function verifyBundle(json: string | unknown, opts: VerifyBundleOptions = {}): BundleVerdict {
  try {
    return verifyOrFault(json, opts);
  } catch (e) {
    // Unreachable for any input we know of (the fuzz test hunts for one); a verifier must still answer.
    return fail("malformed_bundle", `bundle could not be checked: ${(e as Error).message}`);
  }
}

function verifyOrFault(json: string | unknown, opts: VerifyBundleOptions): BundleVerdict {
  let raw: unknown = json;
  if (typeof json === "string") {
    try {
      raw = JSON.parse(json);
    } catch (e) {
      return fail("malformed_bundle", `bundle is not JSON: ${(e as Error).message}`);
    }
  }
  const parsed = ReceiptBundleSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail("malformed_bundle", `${issue.message} at $.${issue.path.map(String).join(".")}`);
  }
  const b: ReceiptBundle = parsed.data;
  const { entry, inclusion, checkpoint: cp } = b;

  // 1. The entry's bytes are the ones the chain committed to.
  const body = hx(entry.body_cbor);
  const hash = hx(entry.hash);
  if (!bytesEqual(bundleEntryHash(hx(entry.prev_hash), entry.seq, entry.kind, body), hash)) {
    return fail("entry_hash_mismatch", `entry ${entry.seq} does not hash to ${entry.hash}`);
  }

  // 2. The body is a strictly canonical, well-formed effect_receipt; 3. it is signed; its payload matches.
  let value: CborValue;
  try {
    value = decodeStored(body);
  } catch (e) {
    return fail("bad_entry_body", `entry body is not stored canonical CBOR: ${(e as Error).message}`);
  }
  const bodyFault = checkEffectReceiptBody(value, true);
  if (bodyFault) return fail(bodyFault.fault, bodyFault.message);
  const rb = value as EffectReceiptBody;
  if (rb.receipt.world_id !== b.world_id)
    return fail(
      "world_id_mismatch",
      `the receipt is for world ${JSON.stringify(rb.receipt.world_id)}, the bundle says ${JSON.stringify(b.world_id)}`,
    );
  if (opts.adapterPublicKey !== undefined && keyHex(opts.adapterPublicKey) !== toHex(rb.adapter_public_key)) {
    return fail(
      "adapter_key_mismatch",
      `the receipt is signed by adapter key ${toHex(rb.adapter_public_key)}, not the expected ${keyHex(opts.adapterPublicKey)}`,
    );
  }
  if (b.payload_cbor !== undefined) {
    const pbytes = hx(b.payload_cbor);
    let pv: CborValue;
    try {
      pv = decodeStored(pbytes);
    } catch (e) {
      return fail("payload_mismatch", `payload_cbor is not stored canonical CBOR: ${(e as Error).message}`);
    }
    if (hashBytes(pbytes) !== rb.receipt.payload_hash || !bytesEqual(encodeStored(pv), pbytes)) {
      return fail(
        "payload_mismatch",
        `payload_cbor hashes to ${hashBytes(pbytes)}, the receipt says ${rb.receipt.payload_hash}`,
      );
    }
  }

  // 4. The entry sits at its seq in the tree the checkpoint names.
  if (inclusion.leaf_index !== entry.seq)
    return fail("bad_inclusion_proof", `leaf_index ${inclusion.leaf_index} is not the entry's seq ${entry.seq}`);
  if (inclusion.tree_size !== cp.tree_size)
    return fail(
      "bad_inclusion_proof",
      `proof is for a tree of ${inclusion.tree_size}, the checkpoint covers ${cp.tree_size}`,
    );
  const root = hx(cp.root);
  if (!verifyEntryInclusion(hash, entry.seq, inclusion.tree_size, inclusion.path.map(hx), root)) {
    return fail("bad_inclusion_proof", `the inclusion path does not lead from entry ${entry.seq} to root ${cp.root}`);
  }
  if (entry.seq === cp.tree_size - 1 && entry.hash !== cp.head_hash)
    return fail(
      "bad_inclusion_proof",
      `entry ${entry.seq} is the checkpoint's head but its hash differs from head_hash`,
    );
  // A checkpoint entry at seq s covers exactly the s entries before it.
  if (cp.seq !== cp.tree_size)
    return fail("malformed_bundle", `checkpoint.seq ${cp.seq} must equal its tree_size ${cp.tree_size}`);

  // 5. The world key signed the checkpoint; 6. it is the key the caller expects.
  const worldKey = hx(b.world_public_key);
  const payload = checkpointSigningPayload({
    tree_size: cp.tree_size,
    root,
    head_hash: hx(cp.head_hash),
    state_root: cp.state_root,
    manifest_hash: cp.manifest_hash,
  });
  if (!verifyPure(worldKey, "checkpoint", payload, hx(cp.signature)))
    return fail("bad_checkpoint_signature", "the world key's signature does not verify over the checkpoint");
  if (opts.worldPublicKey !== undefined && keyHex(opts.worldPublicKey) !== b.world_public_key) {
    return fail(
      "world_key_mismatch",
      `the bundle is signed by world key ${b.world_public_key}, not the expected ${keyHex(opts.worldPublicKey)}`,
    );
  }

  // 7. The receipt's signer is a key the world declared (gate denials: the world key itself).
  const signer = toHex(rb.adapter_public_key);
  const gate = WORLD_SIGNED_ADAPTERS.has(rb.receipt.adapter_id);
  if (gate) {
    if (signer !== b.world_public_key)
      return fail(
        "undeclared_signer",
        `a receipt the kernel issues (${rb.receipt.adapter_id}) must be signed by the world key; this one is signed by ${signer}`,
      );
  } else if (b.format === BUNDLE_FORMAT_V1 || b.declaration === undefined) {
    if (opts.adapterPublicKey === undefined)
      return fail(
        "undeclared_signer",
        "this bundle carries no adapter-key declaration (format 1): pass the adapter key you trust (--adapter-key)",
      );
  } else {
    const declared = checkDeclaration(b, worldKey, root, entry.seq);
    if (typeof declared === "string") return fail("bad_declaration", declared);
    if (!declared.some((k) => toHex(k.public_key) === signer)) {
      return fail(
        "undeclared_signer",
        `the receipt is signed by ${signer}, which is not among the adapter keys the world declared at seq ${b.declaration.entry.seq} (${declared.map((k) => `${k.id}=${toHex(k.public_key).slice(0, 16)}…`).join(", ") || "none"})`,
      );
    }
  }
  return {
    ok: true,
    receipt: rb.receipt,
    payload: rb.payload,
    world_id: b.world_id,
    world_public_key: b.world_public_key,
    adapter_public_key: toHex(rb.adapter_public_key),
    seq: entry.seq,
    checkpoint: { seq: cp.seq, tree_size: cp.tree_size, root: cp.root },
  };
}
