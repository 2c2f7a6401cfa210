/**
 * @module One world hosted by `wk serve`: the open `World` (the only writer), the entries it
 * has announced to stream subscribers, and the loop that dispatches allowed intents and fires
 * timers at their time. Requests are answered once their entries are durable; dispatch runs
 * after, in the background, through the per-world and overall pools, and its receipts are
 * announced like any entry.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborObject } from "../../air/cbor/value.js";
import type { JournalEntry } from "../../kernel/journal/index.js";
import { World, type SendResult } from "../../kernel/world/world.js";
import { readConfig } from "../../kernel/world/config.js";
import { worldPaths } from "../../kernel/journal/world-paths.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { worldSecretStore } from "../../kernel/world/secrets.js";
import type { SecretStore } from "../../kernel/adapters/secrets/store.js";
import { admissionIssues, type IngressEvent } from "../../kernel/world/ingress.js";
import type { Limiter } from "./limiter.js";
import type { WorldGauges } from "./metrics.js";

/** What a host needs from the server. */
export interface HostOptions {
  /** The kernel's wall clock in ns (injected by tests; default Date.now). */
  clock?: () => bigint;
  /** Adapter calls in flight at once for this world, and the server-wide pool they also pass. */
  perWorld: Limiter;
  overall: Limiter;
  /** Called with every batch of newly journaled entries, in seq order. */
  onEntries: (host: WorldHost, entries: readonly JournalEntry[]) => void;
  /** A background failure (dispatch, timers): logged, never thrown at a request. */
  onError: (host: WorldHost, e: unknown) => void;
}

/** A request waiting for the next group commit. */
interface Waiting {
  events: readonly IngressEvent[];
  resolve: (r: SendResult[]) => void;
  reject: (e: unknown) => void;
}

/** Events per group commit at most (a single request may be larger: it goes alone). */
const MAX_GROUP_EVENTS = 1000;

/** An entry announced on the stream. */
export type EntryListener = (entries: readonly JournalEntry[]) => void;

/** Longest sleep before re-reading the next timer (the clock may be moved by a test or NTP). */
const MAX_TIMER_SLEEP_MS = 60_000;

/** A world open in the server. */
export class WorldHost {
  private announced: number;
  private readonly listeners = new Set<EntryListener>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closing = false;
  private readonly waiting: Waiting[] = [];
  private committing = false;
  /** The group-commit loop while it runs (what `settled` waits for before the dispatch it kicks). */
  private commitLoop: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    readonly world: World,
    private readonly opts: HostOptions,
    /** The world's secret store (adapters at dispatch, webhook HMAC keys per request). */
    readonly secrets: SecretStore,
  ) {
    this.announced = world.store.countSync();
  }

  /** Opens the world in `dir` with its configured adapters and resumes what it left pending. */
  static async open(dir: string, opts: HostOptions): Promise<WorldHost> {
    const config = readConfig(worldPaths(dir).config);
    const secrets = worldSecretStore(dir);
    const world = await World.open(dir, {
      adapters: defaultAdapters(config.adapters ?? {}),
      secrets,
      dispatchAfterWrite: false,
      limit: (perform) => opts.perWorld.run(() => opts.overall.run(perform)),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    const host = new WorldHost(dir, world, opts, secrets);
    host.kick();
    return host;
  }

  /** The world's id (the `:id` of its URLs). */
  get id(): string {
    return this.world.id;
  }

  /** Entries journaled so far (the next seq). */
  get height(): number {
    return this.world.store.countSync();
  }

  /**
   * Journals a request's events; resolves once they are durable (dispatch follows). Requests
   * that arrive while a commit is in flight wait and go together in the next one (group
   * commit: one transaction, one fsync for all of them), each answered with its own results.
   */
  send(events: readonly IngressEvent[]): Promise<SendResult[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      if (!this.committing) this.commitLoop = this.commitWaiting();
    });
  }

  /** Commits waiting requests in groups until none is left. */
  private async commitWaiting(): Promise<void> {
    this.committing = true;
    try {
      while (this.waiting.length > 0) {
        const group: Waiting[] = [];
        for (
          let n = 0;
          this.waiting.length > 0 && (group.length === 0 || n + this.waiting[0]!.events.length <= MAX_GROUP_EVENTS);
        ) {
          const w = this.waiting.shift()!;
          n += w.events.length;
          group.push(w);
        }
        try {
          const out = await this.world.sendMany(group.flatMap((g) => g.events));
          let at = 0;
          for (const g of group) g.resolve(out.slice(at, (at += g.events.length)));
        } catch (e) {
          // A refusal names its events by index, and left the kernel untouched (sendMany admits
          // every event before it steps any): the requests none of whose events was refused go
          // together in one commit; each refused one is sent alone, so it gets the answer it
          // would have had on its own (a key another request of the group used is then the
          // journal's). Any other failure (the journal's) fails them all.
          const issues = admissionIssues(e);
          if (group.length === 1 || issues === undefined) for (const g of group) g.reject(e);
          else await this.commitAround(group, new Set(issues.map((i) => i.index)));
        }
        this.announce();
        this.kick();
      }
    } finally {
      this.committing = false;
      this.commitLoop = undefined;
    }
  }

  /** After a refused group commit: commits the requests without a refused event (`refused`: indexes into the group's events) together, then sends each refused request alone. */
  private async commitAround(group: readonly Waiting[], refused: ReadonlySet<number>): Promise<void> {
    const clean: Waiting[] = [];
    const alone: Waiting[] = [];
    let at = 0;
    for (const g of group) {
      const from = at;
      at += g.events.length;
      (g.events.some((_, i) => refused.has(from + i)) ? alone : clean).push(g);
    }
    if (clean.length > 0) {
      try {
        const out = await this.world.sendMany(clean.flatMap((g) => g.events));
        let from = 0;
        for (const g of clean) g.resolve(out.slice(from, (from += g.events.length)));
      } catch (x) {
        for (const g of clean) g.reject(x);
      }
    }
    for (const g of alone) {
      try {
        g.resolve(await this.world.sendMany(g.events));
      } catch (x) {
        g.reject(x);
      }
    }
  }

  /**
   * Runs a write of `fn` (one that takes the world's writer lock itself: approve, apply,
   * decideHeldIntent, or `w.exclusive(...)`), then announces what it wrote. `World.exclusive`
   * is reentrant (writer.ts), so `fn` may also nest its writes inside one section.
   */
  async write<T>(fn: (w: World) => Promise<T>): Promise<T> {
    try {
      return await fn(this.world);
    } finally {
      this.announce();
      this.kick();
    }
  }

  /**
   * Resolves once the background dispatch is idle: every cascade of what was committed before
   * the call has run as far as it can (intents held for approval and timers not yet due wait on).
   * Under a steady stream of writes this may not happen soon: callers race it with a timeout.
   */
  async settled(): Promise<void> {
    // Commits first (a commit kicks the dispatch when it ends), then the dispatch loop; one that a
    // later write re-armed is waited for too. Neither rejects: requests get their own errors,
    // and the dispatch loop reports its own through onError.
    for (let next = this.commitLoop ?? this.running; next !== undefined; next = this.commitLoop ?? this.running)
      await next.catch(() => undefined);
  }

  /**
   * Calls `listener` with every entry from `from` on: those already announced now, later ones
   * as they are journaled. Returns the unsubscribe function.
   */
  subscribe(from: number, listener: EntryListener): () => void {
    const past: JournalEntry[] = [];
    for (const e of this.world.store.iterateSync(from, this.announced - 1)) past.push(e);
    if (past.length > 0) listener(past);
    // A `from` beyond what is announced yet: later batches start below it, so cut them there.
    const own: EntryListener = (es) => {
      const fresh = es[0] !== undefined && es[0].seq >= from ? es : es.filter((e) => e.seq >= from);
      if (fresh.length > 0) listener(fresh);
    };
    this.listeners.add(own);
    return () => this.listeners.delete(own);
  }

  /** What `/metrics` reads at scrape time. */
  gauges(): WorldGauges {
    const pending = [...this.world.state.pending.values()];
    const lease = this.world.store.leaseState();
    return {
      id: this.id,
      pendingIntents: pending.length,
      pendingApprovals: pending.filter((p) => p.waiting === "approval").length,
      lease: lease === undefined ? undefined : lease.lost ? 0 : 1,
    };
  }

  /** Held intents waiting for an approver. */
  heldIntents(): { intent_id: string; kind: string; module: string; seq: number; valid_until_ns: string | null }[] {
    return [...this.world.state.pending.values()]
      .filter((p) => p.waiting === "approval")
      .map((p) => ({
        intent_id: p.intentId,
        kind: p.kind,
        module: p.module,
        seq: p.causeSeq,
        valid_until_ns: p.validUntilNs === undefined ? null : p.validUntilNs.toString(),
      }));
  }

  /** Stops dispatching, waits for the work in hand, then closes the world (snapshot and sealing checkpoint). */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    await this.running;
    await this.world.close();
    this.listeners.clear();
  }

  /** Tells subscribers of every entry journaled since the last announcement. */
  private announce(): void {
    const height = this.world.store.countSync();
    if (height <= this.announced) return;
    const fresh: JournalEntry[] = [];
    for (const e of this.world.store.iterateSync(this.announced, height - 1)) fresh.push(e);
    this.announced = height;
    this.opts.onEntries(this, fresh);
    for (const l of this.listeners) l(fresh);
  }

  /** Starts (or re-arms) the background dispatch loop. */
  private kick(): void {
    if (this.closing) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.world.runUntilIdle();
          this.announce();
        } while (this.again && !this.closing);
      } catch (e) {
        this.announce();
        this.opts.onError(this, e);
      } finally {
        this.running = undefined;
        this.armTimer();
      }
    })();
  }

  /** Sleeps until the next timer is due (or a held intent expires), then dispatches. */
  private armTimer(): void {
    clearTimeout(this.timer);
    if (this.closing) return;
    const next = this.world.nextWakeNs();
    if (next === undefined) return;
    const ms = Number((next - this.world.nowNs()) / 1_000_000n);
    this.timer = setTimeout(() => this.kick(), Math.min(MAX_TIMER_SLEEP_MS, Math.max(0, ms)));
  }
}

/** A held intent or proposal, as the stream announces it (null for other entries). */
export function awaitingApproval(e: JournalEntry): { kind: "intent" | "proposal"; id: string } | null {
  if (e.kind !== "policy_decision" && e.kind !== "shadow_report") return null;
  const b = decodeStored(e.body) as CborObject;
  if (e.kind === "shadow_report") return { kind: "proposal", id: String(b.proposal_id) };
  return b.decision === "require_approval" ? { kind: "intent", id: String(b.intent_id) } : null;
}

/** A world as the list shows it: head, last checkpoint, pending work. */
export function worldSummary(h: WorldHost): Record<string, unknown> {
  const store = h.world.store;
  const head = store.headSync();
  const cp = store.latestOfKind("checkpoint");
  return {
    id: h.id,
    dir: h.dir,
    height: h.height,
    head: head === null ? null : { seq: head.seq, hash: Buffer.from(head.hash).toString("hex") },
    checkpoint: cp === null ? null : { seq: cp.seq },
    manifest_hash: h.world.catalog.manifestHash,
    pending: h.gauges(),
  };
}
