/**
 * @module The journal's rules, checked without running a module: every receipt is signed
 * by a key the world declared for that adapter at that seq (gate denials by the world
 * key), every `keys` rotation by the world key, every approval and denial by an approver the
 * policy in force names, every proposal by its proposer (or allowed unsigned by the policy), and
 * every `apply` is backed by its proposal, a shadow report and enough approvals, and no denial. Blobs the
 * journal relies on hash to their names or were erased. A streaming checker for
 * `verifyJournal`; `seed` primes it from the indexed rare entries so a writer can check
 * just the tail on open.
 */
import { hashBytes, toHex, type HashText } from "../../air/hash.js";
import { isCborObject } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import { checkEffectReceiptBody, WORLD_SIGNED_ADAPTERS } from "../crypto/receipt.js";
import {
  genesisAdapterKeys,
  ingressKeyOf,
  isHeldDecision,
  isJournalError,
  typedBody,
  verifyKeysSignature,
  type ApplyBody,
  type ApprovalBody,
  type CheckFinding,
  type CheckpointBody,
  type DecodedEntry,
  type EntryChecker,
  type GenesisBody,
  type HeldDecisionBody,
  type JournalEntry,
  type ProposalBody,
  type ReceiptBody,
  type ShadowReportBody,
  type SnapshotBody,
  type TypedBody,
} from "../journal/index.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { approvalSignatureValid } from "./approvals.js";
import { DerivedBook } from "./derived-book.js";
import { readSnapshotBlob, snapshotCells } from "./snapshot-blob.js";
import { snapshotMismatch } from "./snapshot.js";
import { refsIn } from "./erasure-taint.js";
import { catalogFromBundle } from "../../air/bundle.js";
import { appliedMigrationsFault, migrationsInPatch } from "./migration.js";
import {
  applyFault,
  checkApproval,
  checkApprovalShape,
  checkProposal,
  checkReportCount,
  denialFault,
  governancePolicyOf,
  isDenial,
  newProposalState,
  noteApproval,
  noteDenial,
  proposerKeys,
  type ProposalState,
  type RuleFault,
} from "./governance-rules.js";

/** What the rules read besides entries: the CAS (content-checked reads). */
export interface RulesBlobs {
  getBlobSync(hash: HashText): Uint8Array;
  hasBlobSync(hash: HashText): boolean;
  iterateBlobsSync?(): Iterable<{ hash: HashText; bytes: Uint8Array }>;
  /** The store's own indexes, held to the entries they are derived from. */
  iterateErasuresSync?(): Iterable<{ hash: HashText; seq: number }>;
  iterateReceiptIndexSync?(): Iterable<{ intent_id: string; seq: number }>;
  iterateIngressKeysSync?(): Iterable<{ key: string; seq: number }>;
}

type Finding = NonNullable<CheckFinding>;
const fault = (f: string, message: string, seq?: number): Finding => ({
  fault: f,
  message,
  ...(seq === undefined ? {} : { seq }),
});

/** A stateful checker of the journal's rules, for one verification. */
export class JournalRules implements EntryChecker {
  private worldId = "";
  private worldKey: Uint8Array = new Uint8Array(0);
  private format = 2;
  private declared = new Map<string, string>(); // public key hex → id
  private tofuKey: string | undefined; // format 1: the adapter key pinned on first use
  private catalog: AirCatalog | undefined;
  private readonly intents = new Set<string>();
  private readonly proposals = new Map<string, ProposalState>();
  private readonly proposersOfPatch = new Map<string, Set<string>>();
  private readonly refs = new Map<string, number>(); // blob → first seq relying on it
  private readonly erasedAt = new Map<string, number>();
  private readonly receiptAt = new Map<string, number>();
  private readonly ingressKeyAt = new Map<string, number>();
  private readonly checked = new Set<string>();
  private trusted = false;
  /** What the entries imply (cells, pending intents, ledger, clock, manifest); null until genesis or the boot snapshot. */
  private book: DerivedBook | null = null;
  private genesisAirRef = "" as HashText;
  /** A fork's first snapshot is its base (the parent's state), adopted rather than derived. */
  private awaitingForkBase = false;

  /**
   * `complete`: the walk starts at genesis, so every intent and receipt is seen (a tail check
   * sees only some). `bootSnapshotSeq`: a tail check starts at this snapshot, which a verified
   * checkpoint covers: the derived state starts from it.
   */
  constructor(
    private readonly blobs: RulesBlobs,
    private readonly complete = true,
    private readonly bootSnapshotSeq: number | null = null,
  ) {}

  /** Primes the state from entries before a tail check's start (they are covered by a signed checkpoint, so not re-judged). */
  seed(entries: Iterable<JournalEntry>): void {
    this.trusted = true;
    try {
      for (const e of entries) {
        if (e.kind === "snapshot" || e.kind === "checkpoint") continue;
        this.observe({ ...e, value: decodeStored(e.body) });
      }
    } finally {
      this.trusted = false;
    }
  }

  /** A proposal's records so far, and every key that proposed its patch on its base (however re-filed). */
  governanceOf(proposalId: string): { state: ProposalState; selfKeys: ReadonlySet<string> } | undefined {
    const state = this.proposals.get(proposalId);
    if (state === undefined) return undefined;
    return {
      state,
      selfKeys: this.proposersOfPatch.get(`${state.body.base_manifest_hash}|${state.body.patch_ref}`) ?? new Set(),
    };
  }

  /** Every proposal filed so far, in filing order. */
  proposalIds(): string[] {
    return [...this.proposals.keys()];
  }

  /** The adapter keys declared now (hex → id). */
  declaredKeys(): ReadonlyMap<string, string> {
    return this.declared;
  }

  check(e: DecodedEntry): CheckFinding {
    try {
      return this.observe(e);
    } catch (err) {
      if (isJournalError(err, "journal.blob_hash_mismatch")) return fault("blob_hash_mismatch", err.message);
      if (isJournalError(err)) return fault(err.code.replace(/^\w+\./, ""), err.message);
      throw err;
    }
  }

  finish(): CheckFinding {
    for (const [hash, seq] of this.refs) {
      if (!this.erasedAt.has(hash) && !this.blobs.hasBlobSync(hash as HashText))
        return fault(
          "missing_blob",
          `blob ${hash}, which the entry at seq ${seq} relies on, is neither in the CAS nor erased`,
          seq,
        );
    }
    if (this.complete) {
      const bad =
        indexFault("erasure", this.erasedAt, this.blobs.iterateErasuresSync?.(), (r) => [r.hash, r.seq]) ??
        indexFault("receipt", this.receiptAt, this.blobs.iterateReceiptIndexSync?.(), (r) => [r.intent_id, r.seq]) ??
        indexFault("ingress key", this.ingressKeyAt, this.blobs.iterateIngressKeysSync?.(), (r) => [r.key, r.seq]);
      if (bad) return bad;
    }
    if (this.complete && this.blobs.iterateBlobsSync) {
      for (const { hash, bytes } of this.blobs.iterateBlobsSync()) {
        const actual = hashBytes(bytes);
        if (actual !== hash)
          return fault(
            "blob_hash_mismatch",
            `blob ${hash} holds bytes that hash to ${actual}: the CAS was altered`,
            this.refs.get(hash),
          );
      }
    }
    return null;
  }

  private observe(e: DecodedEntry): CheckFinding {
    const t = typedBody(e.kind, e.value);
    switch (t.kind) {
      case "genesis":
        return this.genesis(t.body, e.seq);
      case "keys": {
        const k = t.body;
        if (!this.trusted && !verifyKeysSignature(k, this.worldId, e.seq, this.worldKey))
          return fault("bad_signature", "the keys rotation is not signed by the world key");
        this.declared = new Map(k.adapter_keys.map((d) => [toHex(d.public_key), d.id]));
        return null;
      }
      case "effect_intent":
        this.intents.add(t.body.intent_id);
        this.book?.observe(t);
        return null;
      case "event": {
        this.book?.observe(t);
        const k = ingressKeyOf(t.body);
        if (k === null) return null;
        const prior = this.ingressKeyAt.get(k.key);
        if (prior !== undefined)
          return fault(
            "duplicate_ingress",
            `idempotency key ${JSON.stringify(k.key)} names the events at seq ${prior} and ${e.seq}`,
          );
        this.ingressKeyAt.set(k.key, e.seq);
        return null;
      }
      case "effect_receipt":
        return this.receipt(t.body, e.seq) ?? this.derive(t);
      case "policy_decision":
        return (isHeldDecision(t.body) ? this.heldDecision(t.body) : null) ?? this.derive(t);
      case "proposal":
        return this.proposal(t.body, e.seq);
      case "shadow_report":
        return this.shadowReport(t.body, e.seq);
      case "approval":
        return this.approval(t.body, e.seq);
      case "apply":
        return this.apply(t.body, e.seq);
      case "snapshot":
        return this.snapshot(t.body, e.seq);
      case "checkpoint":
        return this.checkpoint(t.body);
      case "step":
        this.book?.observe(t);
        // ann-v1: a large annotation is a blob the step relies on (present, or erased).
        if (t.body.ann_ref !== undefined) this.rely(t.body.ann_ref, e.seq);
        return null;
      case "erasure":
        this.erasedAt.set(t.body.blob_hash, e.seq);
        return null;
      default:
        return null;
    }
  }

  private genesis(g: GenesisBody, seq: number): CheckFinding {
    this.worldId = g.world_id;
    this.worldKey = g.world_public_key;
    this.format = g.format_version;
    this.declared = new Map(genesisAdapterKeys(g).map((d) => [toHex(d.public_key), d.id]));
    if (g.air_ref === undefined) return fault("bad_body", "genesis names no AIR bundle (air_ref)");
    this.genesisAirRef = g.air_ref as HashText;
    this.awaitingForkBase = g.fork !== null;
    if (!this.trusted) this.book = new DerivedBook(g.air_ref as HashText, g.manifest_hash as HashText);
    return this.loadCatalog(g.air_ref, g.manifest_hash, seq);
  }

  private loadCatalog(ref: string, manifestHash: string, seq: number): CheckFinding {
    this.rely(ref, seq);
    if (!this.blobs.hasBlobSync(ref as HashText))
      return fault("missing_blob", `the AIR bundle ${ref} is not in the CAS`);
    try {
      this.catalog = catalogFromBundle(this.blobs.getBlobSync(ref as HashText), manifestHash);
    } catch (err) {
      if (isJournalError(err, "journal.blob_hash_mismatch")) throw err;
      return fault("bad_bundle", `the AIR bundle ${ref}: ${(err as Error).message}`);
    }
    for (const m of this.catalog.modules.values()) this.rely(m.def.wasm_hash, seq);
    return null;
  }

  /** Notes that the entry at `seq` relies on a blob; checks its bytes now when it is present. */
  private rely(hash: string, seq: number): void {
    if (!this.refs.has(hash)) this.refs.set(hash, seq);
    if (this.trusted || this.checked.has(hash) || !this.blobs.hasBlobSync(hash as HashText)) return;
    this.blobs.getBlobSync(hash as HashText); // throws journal.blob_hash_mismatch
    this.checked.add(hash);
  }

  /**
   * The entry schema checks only a receipt's intent id; `checkEffectReceiptBody` (first, before
   * any other field is read) holds it to the full `ReceiptBody` its type promises.
   */
  private receipt(v: ReceiptBody, seq: number): CheckFinding {
    const bad = checkEffectReceiptBody(v);
    if (bad)
      return fault(bad.fault === "bad_entry_body" ? "bad_body" : "bad_signature", `effect_receipt: ${bad.message}`);
    const env = v.receipt;
    const signer = toHex(v.adapter_public_key);
    if (env.world_id !== this.worldId)
      return fault("bad_body", `receipt names world ${String(env.world_id)}, not ${this.worldId}`);
    if (WORLD_SIGNED_ADAPTERS.has(env.adapter_id)) {
      if (signer !== toHex(this.worldKey))
        return fault(
          "undeclared_signer",
          `a receipt the kernel issues (${String(env.adapter_id)}) must be signed by the world key`,
        );
    } else if (this.format === 1) {
      this.tofuKey ??= signer;
      if (signer !== this.tofuKey)
        return fault(
          "undeclared_signer",
          `format 1 journal: receipt signed by ${signer.slice(0, 16)}…, earlier receipts by ${this.tofuKey.slice(0, 16)}…`,
        );
    } else if (!this.declared.has(signer)) {
      return fault(
        "undeclared_signer",
        `receipt for ${String(v.intent_id)} is signed by ${signer.slice(0, 16)}…, which the world did not declare for its adapters at seq ${seq}`,
      );
    }
    const intent = v.intent_id;
    if (this.complete) {
      if (!this.intents.has(intent))
        return fault("orphan_receipt", `receipt for intent ${intent}, which no effect_intent before it names`);
      if (this.receiptAt.has(intent)) return fault("duplicate_receipt", `a second receipt for intent ${intent}`);
    }
    this.receiptAt.set(intent, seq);
    for (const ref of refsIn(v.payload)) this.rely(ref, seq);
    return null;
  }

  private heldDecision(v: HeldDecisionBody): CheckFinding {
    if (!this.trusted && !approvalSignatureValid(v, this.worldId))
      return fault("bad_signature", "approval signature does not verify");
    if (this.complete && !this.intents.has(v.intent_id))
      return fault(
        "orphan_decision",
        `approval of intent ${String(v.intent_id)}, which no effect_intent before it names`,
      );
    const approvers = this.policy().approvers;
    // A policy that names no approvers lets no one decide a held intent (not everyone).
    if (!approvers.includes(v.approver))
      return fault(
        "unauthorized_approval",
        `key ${String(v.approver).slice(0, 16)}… is not an approver named by the policy in force${approvers.length === 0 ? " (it names none)" : ""}`,
      );
    return null;
  }

  private policy() {
    return governancePolicyOf(this.catalog!);
  }

  private proposal(p: ProposalBody, seq: number): CheckFinding {
    this.rely(p.patch_ref, seq);
    this.rely(p.bundle_ref, seq);
    if (!this.trusted) {
      const why = checkProposal(this.worldId, p, this.policy(), this.format);
      if (why !== null) return fault(signatureOr(why, "unauthorized_proposal"), why.message);
      const who = p.proposer;
      if (
        this.complete &&
        who !== null &&
        typeof who !== "string" &&
        who.kind === "module" &&
        !this.intents.has(who.intent_id)
      ) {
        return fault(
          "unauthorized_proposal",
          `proposal ${p.proposal_id} names intent ${who.intent_id} of ${who.module}, which the journal does not hold`,
        );
      }
    }
    if (this.proposals.has(p.proposal_id)) return fault("bad_body", `proposal ${p.proposal_id} was already filed`);
    this.proposals.set(p.proposal_id, newProposalState(p));
    const k = `${p.base_manifest_hash}|${p.patch_ref}`;
    const keys = this.proposersOfPatch.get(k) ?? new Set<string>();
    for (const key of proposerKeys(p.proposer)) keys.add(key);
    this.proposersOfPatch.set(k, keys);
    return null;
  }

  private shadowReport(v: ShadowReportBody, seq: number): CheckFinding {
    const s = this.proposals.get(v.proposal_id);
    if (!s) return fault("unknown_proposal", `shadow report for proposal ${v.proposal_id}, which was never filed`);
    const ref = v.report_ref as HashText;
    if (!this.trusted && this.blobs.hasBlobSync(ref)) {
      const bytes = this.blobs.getBlobSync(ref);
      if (hashBytes(bytes) !== v.report_hash)
        return fault("bad_body", `shadow report ${ref} does not hash to its report_hash ${v.report_hash}`);
      const why = checkReportCount(decodeStored(bytes), v.failures);
      if (why !== null) return fault("bad_body", `shadow report ${ref}: ${why.message}`);
    }
    this.rely(ref, seq);
    s.reports.add(v.report_hash);
    s.latestReport = v.report_hash;
    s.latestReportRef = v.report_ref;
    s.latestFailures = v.failures ?? null;
    return null;
  }

  private approval(a: ApprovalBody, seq: number): CheckFinding {
    const s = this.proposals.get(a.proposal_id);
    const what = isDenial(a) ? "denial" : "approval";
    if (!s) return fault("unknown_proposal", `${what} of proposal ${a.proposal_id}, which was never filed`);
    if (isDenial(a)) {
      if (!this.trusted) {
        const why = denialFault(this.worldId, a, s, this.policy());
        if (why !== null) return fault(why.fault, why.message);
      }
      noteDenial(s, a, seq);
      return null;
    }
    const self = this.proposersOfPatch.get(`${s.body.base_manifest_hash}|${s.body.patch_ref}`) ?? new Set<string>();
    if (!this.trusted) {
      const shape = checkApprovalShape(a);
      if (shape !== null) return fault("bad_body", shape.message);
      // The kernel refuses to approve a denied proposal: an approval after the denial was written around it.
      if (s.denied !== null)
        return fault(
          "unauthorized_approval",
          `approval of proposal ${a.proposal_id}, which was denied at seq ${s.denied.seq}`,
        );
      const why = checkApproval(this.worldId, a, s.body, s.reports, this.policy(), self);
      if (why !== null) return fault(signatureOr(why, "unauthorized_approval"), why.message);
      // The kernel refuses a second approval of the same report by the same key: one in the journal was replayed.
      if (s.approvals.get(a.approver)?.has(a.shadow_report_hash!) === true)
        return fault(
          "duplicate_approval",
          `a second approval of shadow report ${a.shadow_report_hash} of proposal ${a.proposal_id} by key ${a.approver.slice(0, 16)}…`,
        );
    }
    noteApproval(s, a);
    return null;
  }

  private apply(a: ApplyBody, seq: number): CheckFinding {
    const s = this.proposals.get(a.proposal_id);
    if (!this.trusted) {
      const why = applyFault(s, this.catalog!.manifestHash, this.policy(), a) ?? this.migrationsFault(s!, a);
      if (why !== null) return fault("unauthorized_apply", `apply of proposal ${a.proposal_id}: ${why}`);
    }
    if (s) s.applied = true;
    this.book?.observe({ kind: "apply", body: a });
    return this.loadCatalog(a.bundle_ref, a.new_manifest_hash, seq);
  }

  /** Why the apply's migrations are not its patch's (checked while the patch is in the CAS); null when they are. */
  private migrationsFault(s: ProposalState, a: ApplyBody): string | null {
    const ref = s.body.patch_ref as HashText;
    if (!this.blobs.hasBlobSync(ref)) return null; // an erased patch: what the apply ran stands on its proposal's signature
    const named = migrationsInPatch(decodeStored(this.blobs.getBlobSync(ref)));
    if (named === null) return `its patch ${ref} names malformed migrations`;
    if ((a.migrations === undefined) !== (a.state_root === undefined))
      return "an apply records migrations and the state root after them together";
    return appliedMigrationsFault(named, a.migrations);
  }

  private snapshot(s: SnapshotBody, seq: number): CheckFinding {
    this.rely(s.cells_ref, seq);
    if (this.trusted || !this.blobs.hasBlobSync(s.cells_ref as HashText)) return null;
    const bytes = this.blobs.getBlobSync(s.cells_ref as HashText);
    const raw = decodeStored(bytes);
    const cells = snapshotCells(raw);
    if (!isCborObject(raw) || cells === null)
      return fault("bad_body", `snapshot blob ${s.cells_ref} has an unknown format`);
    for (const c of cells) this.rely(String(c[2]), seq);
    if (typeof raw.air_ref === "string") this.rely(raw.air_ref, seq);
    const blob = readSnapshotBlob(bytes);
    if (seq === this.bootSnapshotSeq || (this.awaitingForkBase && this.book !== null)) {
      // The state a tail check boots from (a verified checkpoint covers it), or a fork's base.
      this.awaitingForkBase = false;
      if (blob === null) return fault("bad_body", `snapshot blob ${s.cells_ref} has an unknown format`);
      this.book = DerivedBook.fromSnapshot(blob, this.genesisAirRef, s.manifest_hash as HashText);
      return null;
    }
    const book = this.book;
    if (book === null) return null;
    const why = snapshotMismatch(s, blob, {
      cells: book.cellsExact ? [...book.cells.values()] : null,
      ledger: book.ledger,
      pending: book.pending.values(),
      logicalNow: book.logicalNow,
      airRef: book.airRef,
      manifestHash: book.manifestHash,
      genesisAirRef: this.genesisAirRef,
    });
    if (why !== null)
      return fault("snapshot_mismatch", `the snapshot at seq ${seq} is not the state the journal implies: ${why}`);
    if (!book.cellsExact) book.adoptCells(blob!);
    return null;
  }

  /** A checkpoint attests the manifest in force and (when the entries determine it) the cells' state root. */
  private checkpoint(c: CheckpointBody): CheckFinding {
    const book = this.book;
    if (this.trusted || book === null) return null;
    if (c.manifest_hash !== book.manifestHash)
      return fault(
        "checkpoint_mismatch",
        `the checkpoint names manifest ${c.manifest_hash}; the manifest in force is ${book.manifestHash}`,
      );
    if (book.cellsExact && c.state_root !== ZERO_ROOT && c.state_root !== book.stateRoot())
      return fault(
        "checkpoint_mismatch",
        `the checkpoint attests state root ${c.state_root}; the journal's steps imply ${book.stateRoot()}`,
      );
    return null;
  }

  /** Feeds an entry to the derived book; a receipt for an intent never released is a fault. */
  private derive(e: TypedBody & { kind: "effect_receipt" | "policy_decision" }): CheckFinding {
    if (this.trusted || this.book === null) return null;
    const f = this.book.observe(e);
    return f === null ? null : fault(f.fault, f.message);
  }
}

/** verify's fault for a governance rule's fault: `bad_signature` for a signature that does not verify, else `otherwise`. */
function signatureOr(f: RuleFault, otherwise: string): string {
  return f.code === "governance.bad_signature" ? "bad_signature" : otherwise;
}

/** The state root a checkpoint records when it attests no state (a journal-level checkpoint). */
const ZERO_ROOT = "sha256:" + "0".repeat(64);

/** A store index row that its entries do not back, or an entry the index lacks. */
function indexFault<R>(
  what: string,
  fromEntries: ReadonlyMap<string, number>,
  rows: Iterable<R> | undefined,
  key: (r: R) => [string, number],
): Finding | null {
  if (rows === undefined) return null;
  const seen = new Set<string>();
  for (const r of rows) {
    const [k, seq] = key(r);
    seen.add(k);
    if (fromEntries.get(k) !== seq)
      return fault(
        "index_mismatch",
        `the store's ${what} index says ${k} at seq ${seq}; the journal's entries ${fromEntries.has(k) ? `say seq ${fromEntries.get(k)}` : "have none"}`,
        seq,
      );
  }
  for (const [k, seq] of fromEntries)
    if (!seen.has(k)) return fault("index_mismatch", `the store's ${what} index lacks ${k} (entry at seq ${seq})`, seq);
  return null;
}
