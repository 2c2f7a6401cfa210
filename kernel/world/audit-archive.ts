/**
 * @module The audit archive format `worldkernel.audit/1`: one file holding all a stranger
 * needs to re-execute a world with no secret of it. The file is `d9d9f7` ‖ one canonical
 * CBOR map (encodeStored), with keys in canonical order:
 *
 *     keys              [{seq, adapter_keys: [{id, public_key}]}]   genesis (seq 0), then each `keys` rotation
 *     blobs             [[sha256 digest (32 bytes), bytes]]         every blob the CAS holds, sorted by digest
 *     format            "worldkernel.audit/1"
 *     anchors           [anchor]                                    anchor files (kernel/journal/anchor.ts) as maps
 *     entries           [[seq, kind, body, prev_hash, hash]]        the journal rows, exact stored bytes, seq 0..n-1
 *     erasures          [[blob hash text, seq]]                     the CAS's erasure records, sorted by seq
 *     world_id          text                                        = genesis world_id
 *     world_public_key  bytes(32)                                   = genesis world_public_key
 *
 * `keys`, `world_id` and `world_public_key` repeat what genesis and the `keys` entries say,
 * for a human reading the header; the audit checks they agree. The whole archive is one
 * canonical value built and decoded in memory, which is fine for worlds up to some hundreds
 * of megabytes; a big world would want a streamed variant (a sequence of items) instead.
 *
 * Decoding is strict (air's canonical decoder): a flipped bit either breaks decoding, with
 * the byte offset named, or changes a value, which the structural checks here or the
 * audit's verification (kernel/world/audit.ts) then names by seq, blob hash or anchor.
 */
import { HASH_PATTERN, bytesToHash, sha256, type HashText } from "../../air/hash.js";
import { WorldkernelError } from "../../air/errors.js";
import { compareBytes, encodeCanonical, encodeStored } from "../../air/cbor/encode.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import { genesisAdapterKeys, parseAnchor, parseEntryBody, type Anchor } from "../journal/index.js";

/** The `format` marker of this archive version. */
export const AUDIT_FORMAT = "worldkernel.audit/1";

/** One journal row, as stored. */
export interface ArchiveEntry {
  seq: number;
  kind: string;
  body: Uint8Array;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

/** One CAS blob: its sha256 digest (the name it is stored under) and its bytes. */
export interface ArchiveBlob {
  hash: Uint8Array;
  bytes: Uint8Array;
}

/** One erasure record of the CAS: which blob, erased by the entry at which seq. */
export interface ArchiveErasure {
  hash: HashText;
  seq: number;
}

/** The adapter keys declared at a seq (0: genesis; later: a `keys` rotation). */
export interface ArchiveKeys {
  seq: number;
  adapter_keys: { id: string; public_key: Uint8Array }[];
}

/** A decoded archive. */
export interface AuditArchive {
  world_id: string;
  world_public_key: Uint8Array;
  keys: ArchiveKeys[];
  entries: ArchiveEntry[];
  blobs: ArchiveBlob[];
  erasures: ArchiveErasure[];
  anchors: Anchor[];
}

/** What is wrong with an archive before anything is rebuilt from it: the fault and where (`auditArchive` reports it as a result). */
export class ArchiveFault extends WorldkernelError<"audit.bad_archive"> {
  /** The audit fault: `malformed_archive`, `seq_gap`, `blob_hash_mismatch`, `bad_anchor`. */
  readonly fault: string;
  readonly where: { byte_offset?: number; seq?: number; blob_hash?: string };

  constructor(fault: string, message: string, where: { byte_offset?: number; seq?: number; blob_hash?: string } = {}) {
    super("audit.bad_archive", message, { seq: where.seq });
    this.name = "ArchiveFault";
    this.fault = fault;
    this.where = where;
  }
}

const TOP_KEYS = ["anchors", "blobs", "entries", "erasures", "format", "keys", "world_id", "world_public_key"] as const;

/** Encodes an archive (canonical, so the same world always gives the same bytes). */
export function encodeArchive(a: AuditArchive): Uint8Array {
  const blobs = [...a.blobs].sort((x, y) => compareBytes(x.hash, y.hash));
  const erasures = [...a.erasures].sort((x, y) => x.seq - y.seq);
  const value: CborObject = {
    format: AUDIT_FORMAT,
    world_id: a.world_id,
    world_public_key: a.world_public_key,
    keys: a.keys.map((k) => ({
      seq: k.seq,
      adapter_keys: k.adapter_keys.map((d) => ({ id: d.id, public_key: d.public_key })),
    })),
    entries: a.entries.map((e) => [e.seq, e.kind, e.body, e.prev_hash, e.hash]),
    blobs: blobs.map((b) => [b.hash, b.bytes]),
    erasures: erasures.map((e) => [e.hash, e.seq]),
    anchors: a.anchors.map((x) => ({ ...x })),
  };
  return encodeStored(value);
}

/** The declared keys an archive header lists, derived from genesis and the `keys` entries. */
export function declaredKeysOf(entries: readonly { seq: number; kind: string; body: Uint8Array }[]): ArchiveKeys[] {
  const out: ArchiveKeys[] = [];
  for (const e of entries) {
    if (e.kind === "genesis")
      out.push({
        seq: e.seq,
        adapter_keys: genesisAdapterKeys(parseEntryBody("genesis", decodeStored(e.body), e.seq)).map((d) => ({
          id: d.id,
          public_key: d.public_key,
        })),
      });
    else if (e.kind === "keys")
      out.push({
        seq: e.seq,
        adapter_keys: parseEntryBody("keys", decodeStored(e.body), e.seq).adapter_keys.map((d) => ({
          id: d.id,
          public_key: d.public_key,
        })),
      });
  }
  return out;
}

/** The canonical bytes of a header `keys` list (to compare two lists exactly). */
export function keysBytes(keys: readonly ArchiveKeys[]): Uint8Array {
  return encodeCanonical(
    keys.map((k) => ({
      seq: k.seq,
      adapter_keys: k.adapter_keys.map((d) => ({ id: d.id, public_key: d.public_key })),
    })),
  );
}

// ---- decoding -------------------------------------------------------------------------

type Path = (string | number)[];

const pathText = (p: Path): string => "$" + p.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("");

/**
 * Decodes and structurally checks an archive; throws ArchiveFault: `malformed_archive`
 * (naming the byte offset), `seq_gap` (an entry out of place, naming its seq),
 * `blob_hash_mismatch` (a blob whose bytes do not hash to its name, naming it) or
 * `bad_anchor` (an anchor that is not one).
 */
export function decodeArchive(bytes: Uint8Array): AuditArchive {
  let root: CborValue;
  try {
    root = decodeStored(bytes);
  } catch (e) {
    const m = /^@(\d+)$/.exec(String((e as { path?: unknown }).path ?? ""));
    // The decoder counts from the item after the 3-byte prefix; name offsets in the file.
    const at =
      m === null
        ? 0
        : Number(m[1]) + (bytes.length >= 3 && (e as { code?: string }).code !== "cbor.missing_prefix" ? 3 : 0);
    const text = (e as Error).message;
    const msg = /at byte \d+/.test(text) ? text.replace(/at byte \d+/, `at byte ${at}`) : `${text} at byte ${at}`;
    throw new ArchiveFault(
      "malformed_archive",
      `the archive is not one canonical CBOR item: ${(e as { code?: string }).code ?? "cbor"}: ${msg}`,
      { byte_offset: at },
    );
  }
  const bad = (p: Path, what: string): never => {
    // A field that is not there is named at the map that lacks it.
    let at: number | undefined;
    for (let n = p.length; at === undefined && n >= 0; n--) at = offsetAt(bytes, p.slice(0, n));
    throw new ArchiveFault(
      "malformed_archive",
      `${pathText(p)} ${what}${at === undefined ? "" : ` (at byte ${at})`}`,
      at === undefined ? {} : { byte_offset: at },
    );
  };
  if (!isCborObject(root)) return bad([], "must be a map");
  for (const k of Object.keys(root))
    if (!(TOP_KEYS as readonly string[]).includes(k)) bad([k], "is not a field of an audit archive");
  for (const k of TOP_KEYS) if (!(k in root)) bad([], `has no field ${k}`);
  if (root.format !== AUDIT_FORMAT)
    bad(
      ["format"],
      `must be "${AUDIT_FORMAT}", got ${JSON.stringify(typeof root.format === "string" ? root.format : String(root.format))}`,
    );
  const worldId = root.world_id;
  if (typeof worldId !== "string" || worldId.length === 0) return bad(["world_id"], "must be non-empty text");
  const worldKey = bytesOf(root.world_public_key, 32) ?? bad(["world_public_key"], "must be 32 bytes");

  const keys = arrayOf(root.keys) ?? bad(["keys"], "must be an array");
  const declared = keys.map((k, i): ArchiveKeys => {
    if (!isCborObject(k) || Object.keys(k).length !== 2) return bad(["keys", i], "must be a map {seq, adapter_keys}");
    const seq = seqOf(k.seq) ?? bad(["keys", i, "seq"], "must be a seq");
    const list = arrayOf(k.adapter_keys) ?? bad(["keys", i, "adapter_keys"], "must be an array");
    return {
      seq,
      adapter_keys: list.map((d, j) => {
        if (!isCborObject(d) || Object.keys(d).length !== 2 || typeof d.id !== "string")
          return bad(["keys", i, "adapter_keys", j], "must be a map {id, public_key}");
        return {
          id: d.id,
          public_key:
            bytesOf(d.public_key, 32) ?? bad(["keys", i, "adapter_keys", j, "public_key"], "must be 32 bytes"),
        };
      }),
    };
  });

  const rows = arrayOf(root.entries) ?? bad(["entries"], "must be an array");
  const entries = rows.map((r, i): ArchiveEntry => {
    const row = arrayOf(r);
    if (row === undefined || row.length !== 5) return bad(["entries", i], "must be [seq, kind, body, prev_hash, hash]");
    const seq = seqOf(row[0]) ?? bad(["entries", i, 0], "must be a seq");
    if (seq !== i) {
      const at = offsetAt(bytes, ["entries", i, 0]);
      throw new ArchiveFault(
        "seq_gap",
        `entry ${i} of the archive says seq ${seq}${at === undefined ? "" : ` (at byte ${at})`}`,
        { seq: i, ...(at === undefined ? {} : { byte_offset: at }) },
      );
    }
    if (typeof row[1] !== "string" || row[1].length === 0 || Buffer.byteLength(row[1]) > 255)
      return bad(["entries", i, 1], "must be an entry kind");
    return {
      seq,
      kind: row[1],
      body: bytesOf(row[2]) ?? bad(["entries", i, 2], "must be bytes"),
      prev_hash: bytesOf(row[3], 32) ?? bad(["entries", i, 3], "must be 32 bytes"),
      hash: bytesOf(row[4], 32) ?? bad(["entries", i, 4], "must be 32 bytes"),
    };
  });

  const blobRows = arrayOf(root.blobs) ?? bad(["blobs"], "must be an array");
  const blobs = blobRows.map((r, i): ArchiveBlob => {
    const row = arrayOf(r);
    if (row === undefined || row.length !== 2) return bad(["blobs", i], "must be [sha256 digest, bytes]");
    const hash = bytesOf(row[0], 32) ?? bad(["blobs", i, 0], "must be a 32-byte sha256 digest");
    const data = bytesOf(row[1]) ?? bad(["blobs", i, 1], "must be bytes");
    const actual = sha256(data);
    if (compareBytes(actual, hash) !== 0) {
      const name = bytesToHash(hash);
      const at = offsetAt(bytes, ["blobs", i]);
      throw new ArchiveFault(
        "blob_hash_mismatch",
        `blob ${name} holds bytes that hash to ${bytesToHash(actual)}: the archive's copy was altered (blobs[${i}]${at === undefined ? "" : `, at byte ${at}`})`,
        { blob_hash: name, ...(at === undefined ? {} : { byte_offset: at }) },
      );
    }
    return { hash, bytes: data };
  });
  for (let i = 1; i < blobs.length; i++)
    if (compareBytes(blobs[i - 1]!.hash, blobs[i]!.hash) >= 0)
      bad(["blobs", i], "is not after the blob before it (blobs are sorted by digest, each once)");

  const erasureRows = arrayOf(root.erasures) ?? bad(["erasures"], "must be an array");
  const seen = new Set<string>();
  const erasures = erasureRows.map((r, i): ArchiveErasure => {
    const row = arrayOf(r);
    if (row === undefined || row.length !== 2) return bad(["erasures", i], "must be [blob hash, seq]");
    if (typeof row[0] !== "string" || !HASH_PATTERN.test(row[0]))
      return bad(["erasures", i, 0], "must be a sha256:<64 hex> blob hash");
    if (seen.has(row[0])) bad(["erasures", i, 0], `names blob ${row[0]} a second time`);
    seen.add(row[0]);
    return { hash: row[0] as HashText, seq: seqOf(row[1]) ?? bad(["erasures", i, 1], "must be a seq") };
  });
  for (let i = 1; i < erasures.length; i++)
    if (erasures[i - 1]!.seq >= erasures[i]!.seq)
      bad(["erasures", i], "is not after the erasure before it (sorted by seq)");

  const anchorRows = arrayOf(root.anchors) ?? bad(["anchors"], "must be an array");
  const anchors = anchorRows.map((x, i) => {
    const at = offsetAt(bytes, ["anchors", i]);
    try {
      if (!isCborObject(x)) throw new Error("an anchor must be a map");
      return parseAnchor(x);
    } catch (e) {
      throw new ArchiveFault(
        "bad_anchor",
        `archive anchor #${i}${at === undefined ? "" : ` (at byte ${at})`}: ${(e as Error).message}`,
        at === undefined ? {} : { byte_offset: at },
      );
    }
  });

  return { world_id: worldId, world_public_key: worldKey, keys: declared, entries, blobs, erasures, anchors };
}

function arrayOf(v: CborValue | undefined): CborValue[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

function bytesOf(v: CborValue | undefined, length?: number): Uint8Array | undefined {
  return v instanceof Uint8Array && (length === undefined || v.length === length) ? v : undefined;
}

function seqOf(v: CborValue | undefined): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

// ---- byte layout ----------------------------------------------------------------------

/** A CBOR head at `pos`: major type, argument, and where the content starts. */
function headAt(buf: Uint8Array, pos: number): { major: number; arg: number; next: number } {
  const ib = buf[pos]!;
  const ai = ib & 0x1f;
  const extra = ai < 24 ? 0 : ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : 8;
  let arg = ai < 24 ? ai : 0;
  for (let i = 0; i < extra; i++) arg = arg * 256 + buf[pos + 1 + i]!;
  return { major: ib >> 5, arg, next: pos + 1 + extra };
}

/** The offset just after the (well-formed) CBOR item at `pos`. */
function skipItem(buf: Uint8Array, pos: number): number {
  const h = headAt(buf, pos);
  switch (h.major) {
    case 2:
    case 3:
      return h.next + h.arg;
    case 4:
    case 5: {
      let p = h.next;
      for (let i = 0; i < h.arg * (h.major === 5 ? 2 : 1); i++) p = skipItem(buf, p);
      return p;
    }
    case 6:
      return skipItem(buf, h.next);
    default:
      return h.next;
  }
}

/** The file offset of the item at `path` in a decodable archive (undefined when it is not there). */
export function offsetAt(buf: Uint8Array, path: Path): number | undefined {
  let pos = 3;
  try {
    for (const step of path) {
      const h = headAt(buf, pos);
      if (typeof step === "number" && h.major === 4 && step < h.arg) {
        pos = h.next;
        for (let i = 0; i < step; i++) pos = skipItem(buf, pos);
      } else if (typeof step === "string" && h.major === 5) {
        let p = h.next;
        let found: number | undefined;
        for (let i = 0; i < h.arg && found === undefined; i++) {
          const k = headAt(buf, p);
          const after = skipItem(buf, p);
          if (k.major === 3 && Buffer.from(buf.subarray(k.next, after)).toString("utf8") === step) found = after;
          else p = skipItem(buf, after);
        }
        if (found === undefined) return undefined;
        pos = found;
      } else return undefined;
    }
    return pos;
  } catch {
    return undefined;
  }
}

/** A byte range [start, end) of the archive file. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where things sit in an archive file: each top-level field, each entry's body, each blob's bytes, each anchor. */
export interface ArchiveLayout {
  fields: Record<string, ByteRange>;
  entries: { seq: number; body: ByteRange }[];
  blobs: { hash: HashText; bytes: ByteRange }[];
  anchors: ByteRange[];
}

/** The byte layout of a decodable archive (for tools and tests that point at parts of it). */
export function locateArchive(buf: Uint8Array): ArchiveLayout {
  const a = decodeArchive(buf);
  const fields: Record<string, ByteRange> = {};
  for (const k of TOP_KEYS) {
    const start = offsetAt(buf, [k])!;
    fields[k] = { start, end: skipItem(buf, start) };
  }
  const content = (path: Path): ByteRange => {
    const at = offsetAt(buf, path)!;
    const h = headAt(buf, at);
    return { start: h.next, end: h.next + h.arg };
  };
  return {
    fields,
    entries: a.entries.map((e, i) => ({ seq: e.seq, body: content(["entries", i, 2]) })),
    blobs: a.blobs.map((b, i) => ({ hash: bytesToHash(b.hash), bytes: content(["blobs", i, 1]) })),
    anchors: a.anchors.map((_, i) => {
      const start = offsetAt(buf, ["anchors", i])!;
      return { start, end: skipItem(buf, start) };
    }),
  };
}
