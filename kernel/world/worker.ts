/**
 * @module A node that owns worlds by lease (`wk worker`): many such nodes over one PostgreSQL
 * database share its worlds. Each tick a node heartbeats, computes its fair share (the worlds
 * over the live nodes, rounded up), gives up worlds above it (closed cleanly, so the next
 * holder takes them at once) and takes free or expired leases below it; then, for each world
 * it holds, it journals the inbox's events in order under their idempotency keys, deletes
 * them, and fires due timers and pending intents. A world whose lease another node took, or
 * whose journal write failed, is abandoned without writing (its kernel may be ahead of its
 * journal): the next holder reopens it from the journal, so nothing acknowledged is lost and
 * nothing is journaled twice. Fencing, not this loop, keeps a paused node from writing.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PgInbox, type InboxRow } from "../journal/pg-inbox.js";
import { isJournalError } from "../journal/errors.js";
import { isEventRefusal } from "../core/errors.js";
import { admissionIssues } from "./ingress.js";
import type { EffectAdapter } from "../adapters/adapter.js";
import type { GateHooks } from "../core/gate.js";
import { readConfig } from "./config.js";
import { World } from "./world.js";
import { worldPaths } from "../journal/world-paths.js";

/** How a node runs. */
export interface WorkerOptions {
  /** The database (a postgres:// URL); only worlds whose config.json names it are taken. */
  store: string;
  /** World directories (keys and config.json) this node may take. */
  worlds: readonly string[];
  /** This node's name in the lease table (unique among live nodes). */
  holder: string;
  /** Lease TTL: a dead node's worlds are taken over within about this long. */
  ttlMs: number;
  /** Sleep between ticks with no work (default 50 ms). */
  pollMs?: number;
  /** Inbox events per group commit (default 100). */
  batch?: number;
  /** The nodes' shared clock in ms (default Date.now); liveness only. */
  now?: () => number;
  /** Where each world's read mirror lives while held. */
  mirrorDir?: string;
  hooks?: GateHooks;
  adapters?: (dir: string) => Map<string, EffectAdapter>;
  /** One line per lease change, batch and refusal (the CLI prints them as JSON lines). */
  onEvent?: (e: WorkerEvent) => void;
}

/** What a node reports. */
export type WorkerEvent =
  | { event: "acquired"; world: string; token: number }
  | { event: "released"; world: string }
  | { event: "lost"; world: string; code: string; message: string }
  | { event: "journaled"; world: string; events: number; duplicates: number; last_seq: number }
  | { event: "refused"; world: string; idempotency_key: string; code: string; message: string }
  | { event: "error"; world?: string; code: string; message: string };

interface Held {
  dir: string;
  world: World;
}

const codeOf = (e: unknown): string => (e as { code?: string }).code ?? "kernel.internal";

/** True once another node took the world's lease (through the journal's Lease port). */
const leaseLost = (w: World): boolean => w.store.leaseState()?.lost === true;

/** A node's loop over the worlds it leases. */
export class Worker {
  private readonly held = new Map<string, Held>();
  private readonly dirs = new Map<string, string>();
  private stopping = false;
  private done: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly opts: WorkerOptions,
    private readonly inbox: PgInbox,
  ) {
    for (const dir of opts.worlds) {
      const c = readConfig(worldPaths(dir).config);
      if (c.store === opts.store) this.dirs.set(c.world_id, dir);
    }
  }

  /** Connects to the database; `run()` starts the loop. */
  static async start(opts: WorkerOptions): Promise<Worker> {
    return new Worker(opts, await PgInbox.open(opts.store));
  }

  /** The ids of the worlds this node holds now. */
  get worlds(): string[] {
    return [...this.held.keys()].sort();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private emit(e: WorkerEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Runs ticks until `stop()`; resolves once every held world is closed and the node has left. */
  run(): Promise<void> {
    this.done ??= this.loop();
    return this.done;
  }

  /** Stops after the tick in hand: closes every held world (sealed; leases released) and leaves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopping) {
        let worked = false;
        try {
          await this.balance();
          worked = await this.work();
        } catch (e) {
          this.emit({ event: "error", code: codeOf(e), message: (e as Error).message });
        }
        if (!worked && !this.stopping) await this.sleep(this.opts.pollMs ?? 50);
      }
    } finally {
      for (const id of [...this.held.keys()]) await this.release(id);
      await this.inbox.leave(this.opts.holder).catch(() => undefined);
      await this.inbox.close().catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Heartbeat, drop lost worlds, give up those above the fair share, take free ones below it. */
  private async balance(): Promise<void> {
    const now = this.now();
    await this.inbox.heartbeat(this.opts.holder, now, this.opts.ttlMs);
    for (const [id, h] of this.held)
      if (leaseLost(h.world)) await this.abandon(id, "journal.lease_lost", "lease taken");
    const nodes = new Set(await this.inbox.liveNodes(now)).add(this.opts.holder);
    const share = Math.ceil(this.dirs.size / nodes.size);
    for (const id of [...this.held.keys()].slice(share)) await this.release(id);
    if (this.held.size >= share) return;
    const leases = new Map((await this.inbox.leases()).map((l) => [l.world_id, l]));
    // Start at a place of our own in the list, so nodes starting together reach for different worlds.
    const ids = [...this.dirs.keys()].sort();
    const at = hashOf(this.opts.holder) % Math.max(1, ids.length);
    for (const id of [...ids.slice(at), ...ids.slice(0, at)]) {
      if (this.held.size >= share || this.stopping) break;
      const l = leases.get(id);
      if (this.held.has(id) || (l !== undefined && l.expires_at_ms > now)) continue;
      // Read the row again just before opening: another node may have taken it since the list was read,
      // and an open that is refused costs a connection and the schema check.
      const fresh = await this.inbox.leaseOf(id);
      if (fresh !== null && fresh.expires_at_ms > this.now()) continue;
      await this.acquire(id);
    }
  }

  private async acquire(id: string): Promise<void> {
    const dir = this.dirs.get(id)!;
    try {
      const world = await World.open(dir, {
        ...(this.opts.adapters ? { adapters: this.opts.adapters(dir) } : {}),
        lease: { holder: this.opts.holder, ttlMs: this.opts.ttlMs, ...(this.opts.now ? { now: this.opts.now } : {}) },
        ...(this.opts.mirrorDir ? { mirrorDir: this.opts.mirrorDir } : {}),
      });
      this.held.set(id, { dir, world });
      // Resume what the last holder left: pending intents re-dispatch under their idempotency keys.
      await world.runUntilIdle();
      this.emit({ event: "acquired", world: id, token: world.store.leaseState()?.token ?? 0 });
    } catch (e) {
      // Another node took it first: not an error.
      if (isJournalError(e, "journal.lease_held")) return;
      this.emit({ event: "error", world: id, code: codeOf(e), message: (e as Error).message });
      if (this.held.has(id)) await this.abandon(id, codeOf(e), (e as Error).message);
    }
  }

  /** Closes a world cleanly (snapshot, sealing checkpoint, lease released). */
  private async release(id: string): Promise<void> {
    const h = this.held.get(id);
    if (h === undefined) return;
    this.held.delete(id);
    try {
      await h.world.close();
      // A close with nothing to write finds a taken lease only when it gives it up.
      if (leaseLost(h.world))
        this.emit({ event: "lost", world: id, code: "journal.lease_lost", message: "lease taken" });
      else this.emit({ event: "released", world: id });
    } catch (e) {
      await h.world.abandon().catch(() => undefined);
      this.emit({ event: "lost", world: id, code: codeOf(e), message: (e as Error).message });
    }
  }

  /** Drops a world without writing: its lease is gone or its kernel may be ahead of its journal. */
  private async abandon(id: string, code: string, message: string): Promise<void> {
    const h = this.held.get(id);
    if (h === undefined) return;
    this.held.delete(id);
    await h.world.abandon().catch(() => undefined);
    this.emit({ event: "lost", world: id, code, message });
  }

  /** One pass over the held worlds: inbox batches, then due timers and pending intents. True when anything was journaled. */
  private async work(): Promise<boolean> {
    let worked = false;
    // One query says which held worlds have events waiting; the others cost nothing this tick.
    const pending = await this.inbox.pending();
    for (const [id, h] of [...this.held]) {
      if (this.stopping) break;
      try {
        const rows = pending.has(id) ? await this.inbox.take(id, this.opts.batch ?? 100) : [];
        if (rows.length > 0) {
          await this.journal(id, h.world, rows);
          worked = true;
        }
        await h.world.runUntilIdle();
      } catch (e) {
        await this.abandon(id, codeOf(e), (e as Error).message);
      }
    }
    return worked;
  }

  /** Journals inbox rows in one group commit; when the kernel refuses some, the others in one commit and each refused row kept with its refusal. */
  private async journal(id: string, world: World, rows: readonly InboxRow[]): Promise<void> {
    const events = rows.map((r) => ({ schema: r.schema, json: r.json, idempotencyKey: r.idempotencyKey }));
    try {
      const out = await world.sendMany(events);
      await this.inbox.done(
        id,
        rows.map((r) => r.id),
      );
      const duplicates = out.filter((o) => o.duplicate).length;
      this.emit({
        event: "journaled",
        world: id,
        events: rows.length - duplicates,
        duplicates,
        last_seq: world.store.countSync() - 1,
      });
    } catch (e) {
      const issues = admissionIssues(e);
      if (issues === undefined) throw e;
      // sendMany admits every event before it journals any, and names the refused ones: the
      // others go in one commit; each refused row is sent alone, so it is refused as it would
      // have been on its own (a key an earlier row used is then the journal's), and kept.
      const refused = new Set(issues.map((i) => i.index));
      const clean = rows.filter((_, i) => !refused.has(i));
      if (clean.length > 0) {
        await world.sendMany(events.filter((_, i) => !refused.has(i)));
        await this.inbox.done(
          id,
          clean.map((r) => r.id),
        );
      }
      for (const r of rows.filter((_, i) => refused.has(i))) {
        try {
          await world.send(r.schema, r.json, { idempotencyKey: r.idempotencyKey });
          await this.inbox.done(id, [r.id]);
        } catch (x) {
          if (!isEventRefusal(x)) throw x;
          await this.inbox.fail(id, r.id, codeOf(x), (x as Error).message);
          this.emit({
            event: "refused",
            world: id,
            idempotency_key: r.idempotencyKey,
            code: codeOf(x),
            message: (x as Error).message,
          });
        }
      }
    }
  }
}

/** A small stable hash of a name (FNV-1a), to spread nodes' starting points. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(s)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return h;
}

/** The world directories under `parent` (each subdirectory with a config.json), sorted. */
export function worldDirsIn(parent: string): string[] {
  return readdirSync(parent, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(worldPaths(join(parent, d.name)).config))
    .map((d) => join(parent, d.name))
    .sort();
}
