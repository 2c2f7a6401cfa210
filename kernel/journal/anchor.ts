/**
 * @module Anchors: a signed checkpoint exported as a small JSON file to be kept outside
 * the world (a ticket, a transparency log, a colleague's inbox). A re-chain attack can
 * rewrite a hash chain end to end, but not the tree root an anchor already holds, nor
 * forge the world key's signature over it.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { HASH_PATTERN, toHex, fromHex, type HashText } from "../../air/hash.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { verifyCheckpointSignature } from "./checkpoint.js";
import { parseEntryBody, type CheckpointBody, type GenesisBody } from "./entries.js";
import { JournalError } from "./errors.js";
import type { JournalEntry, JournalStore } from "./store.js";

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`), `${n} lowercase hex digits`);
const hashText = z.string().regex(HASH_PATTERN) as unknown as z.ZodType<HashText>;

/** The anchor file: the checkpoint's fields, its signature, the world identity and the checkpoint's seq. */
export const AnchorSchema = z.strictObject({
  world_id: z.string().min(1),
  world_public_key: hex(64),
  tree_size: z.number().int().positive(),
  root: hex(64),
  head_hash: hex(64),
  state_root: hashText,
  manifest_hash: hashText,
  signature: hex(128),
  seq: z.number().int().nonnegative(),
});
export type Anchor = z.infer<typeof AnchorSchema>;

/** The checkpoint body an anchor carries, as bytes again. */
export function anchorCheckpoint(a: Anchor): CheckpointBody {
  return {
    tree_size: a.tree_size,
    root: fromHex(a.root),
    head_hash: fromHex(a.head_hash),
    state_root: a.state_root,
    manifest_hash: a.manifest_hash,
    signature: fromHex(a.signature),
  };
}

/** True when the anchor's signature holds under the public key it names (pure: @noble/curves only). */
export function verifyAnchorSignature(a: Anchor, pure = false): boolean {
  return verifyCheckpointSignature(anchorCheckpoint(a), fromHex(a.world_public_key), pure);
}

/** Parses anchor JSON; throws `journal.bad_anchor` naming the path of the first problem. */
export function parseAnchor(json: unknown, file?: string): Anchor {
  const r = AnchorSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new JournalError(
      "journal.bad_anchor",
      `anchor is malformed at $.${i.path.join(".")}: ${i.message}`,
      file === undefined ? {} : { path: file },
    );
  }
  if (r.data.seq !== r.data.tree_size)
    throw new JournalError(
      "journal.bad_anchor",
      "anchor seq must equal its tree_size (a checkpoint covers the entries before it)",
      file === undefined ? {} : { path: file },
    );
  return r.data;
}

/** Reads and parses an anchor file. */
export function readAnchorFile(file: string): Anchor {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new JournalError("journal.bad_anchor", "anchor file is missing or not JSON", { path: file, cause: e });
  }
  return parseAnchor(json, file);
}

/** Exports the checkpoint at `seq` (default: the latest one) as an anchor. */
export async function exportAnchor(store: JournalStore, seq?: number): Promise<Anchor> {
  const genesisEntry = await store.get(0);
  if (genesisEntry === null) throw new JournalError("journal.bad_sequence", "journal has no genesis");
  const genesis = parseEntryBody("genesis", decodeStored(genesisEntry.body), 0);
  let entry = seq === undefined ? null : await store.get(seq);
  if (seq === undefined) {
    const head = await store.head();
    for (let s = head?.seq ?? -1; s > 0 && entry === null; s--) {
      const e = await store.get(s);
      if (e?.kind === "checkpoint") entry = e;
    }
  }
  if (entry === null || entry.kind !== "checkpoint")
    throw new JournalError(
      "journal.bad_sequence",
      seq === undefined ? "journal has no checkpoint" : "no checkpoint entry at this seq",
      seq === undefined ? {} : { seq },
    );
  return anchorOfEntry(genesis, entry);
}

/** The anchor of a checkpoint entry of the world whose genesis is `genesis` (no store needed). */
export function anchorOfEntry(genesis: GenesisBody, entry: JournalEntry): Anchor {
  const cp = parseEntryBody("checkpoint", decodeStored(entry.body), entry.seq);
  return {
    world_id: genesis.world_id,
    world_public_key: toHex(genesis.world_public_key),
    tree_size: cp.tree_size,
    root: toHex(cp.root),
    head_hash: toHex(cp.head_hash),
    state_root: cp.state_root as HashText,
    manifest_hash: cp.manifest_hash as HashText,
    signature: toHex(cp.signature),
    seq: entry.seq,
  };
}
