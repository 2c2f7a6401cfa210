/**
 * @module Public surface of the journal: the store port and its SQLite and PostgreSQL implementations,
 * entry kinds, the Merkle tree, checkpoints, anchors, verification and the world layout.
 */
export type { JournalStore, JournalEntry, JournalHead, Appended, AppendInput } from "./store.js";
export type { WorldJournal } from "./world-journal.js";
export type { JournalReader, JournalWriter, BlobStore, Lease, LeaseState, ErasureExtra } from "./ports.js";
export { PgWorldJournal } from "./pg-world-journal.js";
export { PgReadMirror } from "./pg-read-mirror.js";
export type { PgWorldJournalOptions } from "./pg-world-journal.js";
export { SqliteJournalStore, blobMismatch, indexRowsOf, ingressKeyOf } from "./sqlite-store.js";
export type { SqliteJournalOptions } from "./sqlite-store.js";
export { PgJournalStore, openPgJournalStore } from "./pg-store.js";
export { moveIntoPg, moveOutOfPg, rowsOfPg, rowsOfSqlite } from "./pg-move.js";
export type { PgJournalOptions, PgLease, PgLeaseOptions } from "./pg-store.js";
export { PG_SCHEMA, PG_SCHEMA_VERSION } from "./pg-schema.js";
export { importVerbatim } from "./sqlite-import.js";
export type { VerbatimRows } from "./sqlite-import.js";
export {
  ENTRY_KINDS,
  ENTRY_BODY_SCHEMAS,
  JOURNAL_FORMAT_VERSION,
  OLDEST_JOURNAL_FORMAT,
  isEntryKind,
  checkEntryBody,
  parseEntryBody,
  decodeEntry,
  typedBody,
  isHeldDecision,
  genesisAdapterKeys,
} from "./entries.js";
export type {
  EntryKind,
  EntryBodies,
  WireBodies,
  TypedEntry,
  TypedBody,
  ReceiptBody,
  GenesisBody,
  CheckpointBody,
  ErasureBody,
  SnapshotBody,
  KeysBody,
  ProposalBody,
  ShadowReportBody,
  ApprovalBody,
  ApplyBody,
  HeldDecisionBody,
  GateDecisionBody,
  DeclaredKey,
  BodyIssue,
} from "./entries.js";
export { entryHash, entryLeafHash, ZERO_HASH } from "./entry-hash.js";
export { MerkleFrontier, rootAt, inclusionPath, consistencyPath, subtreeHash } from "./merkle.js";
export type { NodeReader, NodeSink } from "./merkle.js";
export {
  appendCheckpoint,
  checkpointPayload,
  signCheckpoint,
  verifyCheckpointSignature,
  ZERO_STATE_ROOT,
} from "./checkpoint.js";
export type { StateRefs, StateProvider, CheckpointFields } from "./checkpoint.js";
export {
  AnchorSchema,
  anchorCheckpoint,
  anchorOfEntry,
  exportAnchor,
  parseAnchor,
  readAnchorFile,
  verifyAnchorSignature,
} from "./anchor.js";
export type { Anchor } from "./anchor.js";
export { verifyJournal, VerifyFailure } from "./verify.js";
export type {
  VerifiableStore,
  VerifyResult,
  VerifyFault,
  VerifyOptions,
  EntryCheck,
  EntryChecker,
  CheckFinding,
  EntryCheckContext,
  DecodedEntry,
} from "./verify.js";
export { keysPayload, signKeysEntry, verifyKeysSignature } from "./keys-entry.js";
export { worldPaths, stateFromJournal } from "./world-dir.js";
export type { WorldPaths } from "./world-dir.js";
export { JournalError, ErasedError, isJournalError } from "./errors.js";
export type { JournalErrorCode, JournalErrorFields } from "./errors.js";
export { JOURNAL_MARKER, STORAGE_VERSION, RARE_KINDS } from "./sqlite-open.js";
