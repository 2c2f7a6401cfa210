/**
 * @module The narrow ports through which governance, shadow runs, counterfactual runs and the
 * introspect adapter reach a world: only the members each uses. A leaf (types only, nothing
 * above it), so those files do not import world.ts, which builds their adapters; `World`
 * satisfies every port structurally.
 */
import type { AirCatalog } from "../../air/loader.js";
import type { KeyPair } from "../crypto/keys.js";
import type { WorldJournal } from "../journal/world-journal.js";
import type { EntryBodies } from "../journal/entries.js";
import type { MigrationOutcome } from "../transition/migrate.js";
import type { StateView } from "../transition/state.js";
import type { ModuleHost } from "./modules.js";

/** What `introspect.manifest` reads: the manifest in force and the journal height. */
export interface IntrospectedWorld {
  readonly catalog: AirCatalog;
  readonly store: Pick<WorldJournal, "countSync">;
}

/** What a counterfactual run reads: the journal it rebuilds from, the loaded modules, the live state it compares with. */
export interface CounterfactualWorld {
  readonly store: WorldJournal;
  readonly modules: ModuleHost;
  readonly state: StateView;
}

/** What a shadow run reads besides: the manifest in force, the world's public key (unsigned denials) and its clock. */
export interface ShadowedWorld extends CounterfactualWorld {
  readonly catalog: AirCatalog;
  readonly worldKey: Pick<KeyPair, "publicKey">;
  /** The world's clock (injectable), as ingress stamps it. */
  nowNs(): bigint;
}

/**
 * What governance uses besides: the world id, the writer's exclusivity and record appends. It
 * never writes the state: an apply changes it through the transition (`applyRecord`).
 */
export interface GovernedWorld extends ShadowedWorld {
  readonly id: string;
  /** Serializes writers: governance records never interleave with steps or receipt deliveries. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Appends one record that steps nothing, keeping the world's seq counter in step. */
  appendRecord<K extends "proposal" | "shadow_report" | "approval">(kind: K, body: EntryBodies[K]): Promise<number>;
  /** Journals an apply and runs it through the transition: the only way governance changes the state. */
  applyRecord(body: EntryBodies["apply"], next: AirCatalog, planned?: MigrationOutcome): Promise<number>;
}
