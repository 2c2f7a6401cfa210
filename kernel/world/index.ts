/**
 * @module Public surface of the world shell: create, open, fork, replay.
 */
export { World } from "./world.js";
export { catalogFromBundle, bundleOf } from "../../air/bundle.js";
export { readGenesis } from "./boot.js";
export type { OpenOptions, SendResult } from "./world.js";
export { createWorld, forkWorld, replayWorld, sourceFromAirDir } from "./lifecycle.js";
export type { WorldSource, CreateOptions } from "./lifecycle.js";
export { openWorldJournal, openWorldJournalReadonly, isPgWorld, processLease } from "./journal-open.js";
export type { WorldJournalOptions } from "./journal-open.js";
export { journalLines } from "./journal-lines.js";
export type { ReplayResult, Divergence } from "./replay.js";
export { jsonView } from "./json-view.js";
export { worldSecretStore } from "./secrets.js";
export {
  KERNEL_FLAGS,
  SUPPORTED_FLAGS,
  MAX_STEPS_PER_INPUT,
  MAX_EVENTS_PER_INPUT,
  behaviourOf,
} from "../transition/flags.js";
export type { Behaviour, KernelFlag } from "../transition/flags.js";
export { RECEIPT_EVENT_SCHEMA, GATE_ADAPTER } from "./processor.js";
export {
  propose,
  shadow,
  approve,
  denyProposal,
  denialMessage,
  apply,
  latestShadowReport,
  failureLines,
} from "./governance.js";
export type { ProposeOptions, ProposeAs, Proposed, Shadowed, ApproveOptions, Applied } from "./governance.js";
export type { MigrationRun, MigrationFailure } from "./migration.js";
export type { ShadowReport, ShadowOptions, ShadowEvent } from "./governance.js";
export { authorityChanges, authorityLine, wideningCount } from "./authority-diff.js";
export type { AuthorityFinding, AuthorityKind, AuthoritySide } from "./authority-diff.js";
export { patchFromAir, proposeFromAir, proposeRevert, revertPatch, revertTarget } from "./governance-authoring.js";
export type { AuthoredPatch, RevertTarget } from "./governance-authoring.js";
export { verifyWorld, verifyWorldDir, verifyWorldStore, checkTailOnOpen } from "./verify-world.js";
export type { VerifyWorldOptions } from "./verify-world.js";
export { JournalRules } from "./journal-rules.js";
export { governancePolicyOf, proposalIdOf, approvalPayload } from "./governance-rules.js";
export {
  AuditError,
  archiveOfStore,
  auditArchive,
  auditFile,
  exportAuditArchive,
  readArchiveFile,
  rebuildWorld,
} from "./audit.js";
export type { AuditErrorCode, AuditOptions, AuditResult, ExportSummary } from "./audit.js";
export { AUDIT_FORMAT, ArchiveFault, decodeArchive, encodeArchive, locateArchive } from "./audit-archive.js";
export type {
  ArchiveBlob,
  ArchiveEntry,
  ArchiveErasure,
  ArchiveKeys,
  ArchiveLayout,
  AuditArchive,
  ByteRange,
} from "./audit-archive.js";
export { cascadeReport } from "./cascade-report.js";
export type { CascadeReport, CascadeIntent, StepFailure } from "./cascade-report.js";
export { batchSummary } from "./intake.js";
