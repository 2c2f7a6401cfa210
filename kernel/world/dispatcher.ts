/**
 * @module The dispatcher: runs a world's pending intents. Allowed intents (timers once due)
 * are performed through their adapter and the adapter-signed receipt is stepped and appended;
 * intents past their validity get an `expired` receipt signed with the world key instead.
 * Also records approvals of held intents, and says when the next timer or expiry is due.
 */
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import type { KeyPair } from "../crypto/keys.js";
import type { Signer } from "../crypto/signer.js";
import { buildEffectReceiptBody } from "../crypto/receipt.js";
import type { ReceiptBody } from "../journal/index.js";
import type { WorldJournal } from "../journal/world-journal.js";
import type { EffectAdapter, EffectOutcome } from "../adapters/adapter.js";
import { secretAccess } from "../adapters/secrets/access.js";
import type { SecretStore } from "../adapters/secrets/store.js";
import { KernelError } from "../core/errors.js";
import { approvalEntry } from "./approvals.js";
import { EXPIRY_ADAPTER, type Processor } from "./processor.js";
import type { StateView, PendingIntent } from "../transition/state.js";
import type { Writer } from "./writer.js";

/** What the dispatcher works with: the world's state, journal, processor and writer, its keys and clock. */
export interface DispatchParts {
  readonly state: StateView;
  readonly store: WorldJournal;
  readonly processor: Processor;
  readonly writer: Writer;
  readonly worldKey: KeyPair;
  /** The adapter key receipts are signed with, read at each receipt (rotation replaces it). */
  adapterKey(): KeyPair;
  /** The world's clock in ns. */
  now(): bigint;
  /** The adapter serving an effect kind (the caller's first, then the kernel's own). */
  adapter(kind: string): EffectAdapter | undefined;
  /** Where the world's defsecret values are read, at dispatch only. */
  readonly secrets: SecretStore;
}

/** How the dispatcher runs intents (from `OpenOptions`). */
export interface DispatchOptions {
  /** Dispatch timers due within this many ms (default 0: only timers already due). */
  timerWaitMs?: number;
  /** Runs each adapter call (a bounded pool); default: at once. */
  limit?: <T>(perform: () => Promise<T>) => Promise<T>;
}

/** When a `timer.set` intent asks to be delivered. */
function deliverAtNs(p: { params: CborValue }): bigint {
  // timer.set params passed their schema when the intent was issued: deliver_at_ns is an integer.
  const at = isCborObject(p.params) ? p.params.deliver_at_ns : undefined;
  if (typeof at !== "number" && typeof at !== "bigint")
    throw new KernelError("kernel.internal", "a pending timer.set intent names no integer deliver_at_ns");
  return BigInt(at);
}

/** Dispatches a world's pending intents; one per world. */
export class Dispatcher {
  private readonly inflight = new Set<string>();

  constructor(
    private readonly w: DispatchParts,
    private readonly opts: DispatchOptions,
  ) {}

  /** Dispatches every pending, allowed intent (re-dispatch after a restart uses the same key) until none is left. */
  async runUntilIdle(): Promise<{ dispatched: number; waiting: number }> {
    let dispatched = 0;
    for (;;) {
      // Held intents past their deadline are settled too (with an expired receipt), so nothing waits forever.
      const ready = [...this.w.state.pending.values()].filter(
        (p) =>
          !this.inflight.has(p.intentId) &&
          ((p.waiting === "dispatch" && this.isDue(p)) || (p.waiting === "approval" && this.isExpired(p))),
      );
      if (ready.length === 0) break;
      dispatched += ready.length;
      await Promise.all(ready.map((p) => this.dispatch(p.intentId)));
    }
    const waiting = [...this.w.state.pending.values()].length;
    return { dispatched, waiting };
  }

  /** When `runUntilIdle` next has work: the earliest timer due or held intent expiring (ns), or undefined. */
  nextWakeNs(): bigint | undefined {
    let next: bigint | undefined;
    for (const p of this.w.state.pending.values()) {
      const at =
        p.waiting === "dispatch" && p.kind === "timer.set"
          ? deliverAtNs(p)
          : p.waiting === "approval" && p.validUntilNs !== undefined
            ? p.validUntilNs + 1n
            : undefined;
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  private isExpired(p: PendingIntent): boolean {
    return p.validUntilNs !== undefined && this.w.now() > BigInt(p.validUntilNs);
  }

  private isDue(p: { kind: string; params: CborValue }): boolean {
    if (p.kind !== "timer.set") return true;
    return deliverAtNs(p) <= this.w.now() + BigInt(this.opts.timerWaitMs ?? 0) * 1_000_000n;
  }

  private async dispatch(intentId: string): Promise<void> {
    const p = this.w.state.pending.get(intentId)!;
    this.inflight.add(intentId);
    try {
      const perform = () => this.perform(p);
      const body = this.isExpired(p) ? this.expiredReceipt(p) : await (this.opts.limit?.(perform) ?? perform());
      await this.w.writer.exclusive(async () => {
        if (!this.w.state.pending.has(intentId)) return; // settled meanwhile (e.g. denied)
        const batch = this.w.writer.batch();
        const seq = batch.push("effect_receipt", body);
        await this.w.processor.processReceipt(seq, body, batch);
        await this.w.writer.flush(batch);
      });
    } finally {
      this.inflight.delete(intentId);
    }
  }

  /** Performs an intent through its adapter and wraps the outcome in a receipt signed by the adapter key. */
  private async perform(p: PendingIntent): Promise<ReceiptBody> {
    const intentId = p.intentId;
    const adapter = this.w.adapter(p.kind);
    const started = this.w.now();
    let outcome: EffectOutcome;
    let adapterId = { id: adapter?.id ?? "kernel.none", version: adapter?.version ?? "1" };
    if (!adapter) {
      outcome = {
        status: "error",
        payload: { code: "no_adapter", message: `no adapter serves ${p.kind} in this kernel` },
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
        startedNs: started,
        finishedNs: started,
      };
    } else {
      const catalog = this.w.state.catalog;
      const grant = catalog.grants.get(p.grant);
      const grantSecrets = grant?.grant.secrets;
      outcome = await adapter.perform({
        intentId,
        idempotencyKey: intentId,
        kind: p.kind,
        params: p.params,
        grant: {
          name: p.grant,
          capType: p.capType,
          params: grant?.params ?? null,
          prices: grant?.grant.prices,
          ...(grantSecrets ? { secrets: grantSecrets } : {}),
        },
        blobs: { put: (b) => this.w.store.putBlobSync(b), get: (h) => this.w.store.getBlobSync(h) },
        signal: AbortSignal.timeout(120_000),
        nowNs: () => this.w.now(),
        // Secrets resolve here, in the shell, for this grant; the value lives only in the adapter call.
        secrets: secretAccess(catalog.secrets, p.grant, this.w.secrets),
      });
      adapterId = { id: adapter.id, version: adapter.version };
    }
    const adapterKey = this.w.adapterKey();
    return buildEffectReceiptBody(
      {
        worldId: this.w.state.worldId,
        intentId,
        effectKind: p.kind,
        params: p.params,
        idempotencyKey: intentId,
        status: outcome.status,
        payload: outcome.payload,
        adapter: adapterId,
        startedNs: outcome.startedNs,
        finishedNs: outcome.finishedNs,
        cost: outcome.cost,
      },
      adapterKey,
      adapterKey.publicKey,
    );
  }

  /**
   * validity-v1: an intent past its `valid_until_ns` (held too long for approval, or found
   * after a crash) is never performed; the kernel signs an `expired` receipt with the world key.
   */
  private expiredReceipt(p: PendingIntent): ReceiptBody {
    const now = this.w.now();
    return buildEffectReceiptBody(
      {
        worldId: this.w.state.worldId,
        intentId: p.intentId,
        effectKind: p.kind,
        params: p.params,
        idempotencyKey: p.intentId,
        status: "expired",
        payload: {
          code: "intent.expired",
          message: `the intent was valid until ${String(p.validUntilNs)} ns; it is now ${now} ns`,
          valid_until_ns: BigInt(p.validUntilNs!),
        },
        adapter: EXPIRY_ADAPTER,
        startedNs: now,
        finishedNs: now,
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
      },
      this.w.worldKey,
      this.w.worldKey.publicKey,
    );
  }

  /** Records a person's approval or refusal of a held intent (signed with their key); run it under the writer. */
  async decide(intentId: string, approver: Signer, decision: "allow" | "deny"): Promise<number> {
    const p = this.w.state.pending.get(intentId);
    if (!p) throw new KernelError("kernel.unknown_intent", `no pending intent ${intentId}`, { intent_id: intentId });
    if (p.waiting !== "approval")
      throw new KernelError("kernel.not_pending", `intent ${intentId} is not waiting for approval`, {
        intent_id: intentId,
      });
    const catalog = this.w.state.catalog;
    const policyName = catalog.manifest.defaults?.policy;
    const approvers = policyName ? catalog.policies.get(policyName)?.def.approvers : undefined;
    // No approvers named means no one may decide a held intent, not that anyone may.
    if (!approvers?.some((a) => a.public_key === approver.publicKeyHex)) {
      const why = approvers?.length
        ? `is not an approver of ${policyName}`
        : `cannot decide it: ${policyName ?? "the world's policy"} names no approvers`;
      throw new KernelError("kernel.bad_approval", `key ${approver.publicKeyHex.slice(0, 16)}… ${why}`, {
        intent_id: intentId,
      });
    }
    const batch = this.w.writer.batch();
    const body = approvalEntry(intentId, decision, approver, this.w.state.worldId);
    const seq = batch.push("policy_decision", body);
    await this.w.processor.processApproval(seq, body, batch);
    await this.w.writer.flush(batch);
    return seq;
  }
}
