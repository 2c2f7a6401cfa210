/**
 * @module How a world is opened for writing (`World.open`, `createWorld`, `forkWorld`): only
 * what replay does not depend on, such as the clock, adapters, durability and dispatch pools.
 */
import type { EffectAdapter } from "../adapters/adapter.js";
import type { SecretStore } from "../adapters/secrets/store.js";
import type { PgLeaseOptions } from "../journal/pg-store.js";

/** How to open a world. */
export interface OpenOptions {
  adapters?: Map<string, EffectAdapter>;
  synchronous?: "FULL" | "NORMAL";
  /** Wall clock in ns (injectable for tests); the default reads Date.now(). */
  clock?: () => bigint;
  /** Dispatch timers due within this many ms (default 0: only timers already due). */
  timerWaitMs?: number;
  /** A world in PostgreSQL: write under this lease (fenced by its token; default: this process's, renewed while open). */
  lease?: PgLeaseOptions;
  /** A world in PostgreSQL: where its local read mirror lives while open (default: the OS temp directory). */
  mirrorDir?: string;
  /**
   * `send`, `sendMany` and `decideHeldIntent` run pending intents before they return (default
   * true); false lets a server answer once the input is durable and dispatch on its own.
   */
  dispatchAfterWrite?: boolean;
  /** Runs each adapter call (a bounded pool, e.g. `wk serve`'s per world and overall); default: at once. */
  limit?: <T>(perform: () => Promise<T>) => Promise<T>;
  /**
   * Where adapters read defsecret values at dispatch (default: `env:` from this process's
   * environment, `file:` from the world's `secrets.json`). Replay never reads it.
   */
  secrets?: SecretStore;
  /** Anchor log (anchor-log.ts): a file, false for none (a throwaway world), default `<state dir>/anchors/<world_id>.jsonl`. */
  anchorLog?: string | false;
}
