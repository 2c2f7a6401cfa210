/**
 * @module Ingress into a live world: admitted events are stamped (time, logical clock,
 * journal height, entropy, identity) and stepped, all of a `sendMany` in one batch and one
 * commit. Idempotency keys already journaled return the first send's result.
 */
import { randomBytes } from "node:crypto";
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { AdmissionError, admit, journalKeys, type IngressEvent, type IngressSource } from "./ingress.js";
import { startsUnit } from "./boundaries.js";
import { cascadeReport } from "./cascade-report.js";
import { eventHash, ingressEventHash, type Processor } from "./processor.js";
import type { EventBody, StateView } from "../transition/state.js";
import type { Writer } from "./writer.js";

/** Result of sending one event (for a retry under an idempotency key: the first send's, with `duplicate`). */
export interface SendResult {
  seq: number;
  entries: number;
  steps: number;
  failures: number;
  duplicate?: boolean;
}

/** What the batch of the input at `seq` held: its entries, steps and failed steps. */
export function batchSummary(store: WorldJournal, seq: number): SendResult {
  const count = store.countSync();
  let last = seq;
  while (last + 1 < count && !startsUnit(store.getSync(last + 1)!)) last++;
  const c = cascadeReport(store, seq, last);
  return { seq, entries: c.entries, steps: c.steps, failures: c.failures.length };
}

/** What ingress works with: the world's state, journal, processor, writer and clock. */
export interface IntakeParts {
  readonly state: StateView;
  readonly store: WorldJournal;
  readonly processor: Processor;
  readonly writer: Writer;
  now(): bigint;
}

/** Stamps and steps ingress events; one per world (it holds the entropy pool). */
export class Intake {
  private entropyPool = new Uint8Array(0);
  private entropyAt = 0;

  constructor(private readonly w: IntakeParts) {}

  /** 32 fresh random bytes, drawn from a pool refilled 8 KiB at a time. */
  private entropy(): Uint8Array {
    if (this.entropyAt + 32 > this.entropyPool.length) {
      this.entropyPool = new Uint8Array(randomBytes(8192));
      this.entropyAt = 0;
    }
    this.entropyAt += 32;
    return this.entropyPool.slice(this.entropyAt - 32, this.entropyAt);
  }

  /** Builds a stamped ingress event body from an admitted value (with its idempotency key, if any). */
  private ingressBody(
    schema: string,
    value: CborValue,
    seq: number,
    idempotency?: { key: string; requestHash: HashText },
    source?: IngressSource,
  ): EventBody {
    const ctx = {
      now_ns: this.w.now(),
      // The next tick; the transition moves the state's clock to it when it takes the event.
      logical_now: this.w.state.logicalNow + 1,
      journal_height: seq,
      entropy: this.entropy(),
      // identity-v2: the seq binds identity, so identical requests are independent.
      event_hash: this.w.state.behaviour.identityV2
        ? ingressEventHash(schema, value, seq)
        : eventHash(schema, value, null),
      manifest_hash: this.w.state.catalog.manifestHash,
    };
    const origin = {
      kind: "ingress",
      ...(idempotency ? { idempotency_key: idempotency.key, request_hash: idempotency.requestHash } : {}),
      // Who handed it in (an MCP call and its token): recorded, never part of identity or key.
      ...(source ? { via: source.via, ...(source.token === undefined ? {} : { token: source.token }) } : {}),
    };
    return { schema, value, key: null, ctx, origin };
  }

  /**
   * Admits, stamps and steps `events` and appends them in one commit (run under the writer).
   * A refused batch appends nothing: an `AdmissionError` naming every issue by index.
   */
  async sendMany(events: readonly IngressEvent[]): Promise<SendResult[]> {
    const { state, store, processor, writer } = this.w;
    // Admit every event and idempotency key first: a bad event later in the list must not
    // leave the kernel holding steps of earlier ones that were never journaled.
    const admitted = admit(state.catalog, events, journalKeys(store));
    if (!admitted.ok) throw new AdmissionError(admitted.issues);
    const batch = writer.batch();
    const out: SendResult[] = [];
    for (const p of admitted.events) {
      const i = p.index;
      if (p.duplicateOf !== undefined) {
        const first = "index" in p.duplicateOf ? out[p.duplicateOf.index]! : batchSummary(store, p.duplicateOf.seq);
        out[i] = { ...first, duplicate: true };
        continue;
      }
      const before = { n: batch.entries.length, steps: processor.stats.steps, failures: processor.stats.failures };
      const seq = batch.nextSeq;
      const body = this.ingressBody(p.schema, p.value, seq, p.idempotency, events[i]!.source);
      batch.push("event", body);
      await processor.processEvent(seq, body, batch);
      out[i] = {
        seq,
        entries: batch.entries.length - before.n,
        steps: processor.stats.steps - before.steps,
        failures: processor.stats.failures - before.failures,
      };
    }
    await writer.flush(batch);
    return out;
  }
}
