/**
 * @module Verify's chain lane: the walk's hashing (each entry's hash, its prev_hash link, the
 * Merkle tree, checkpoint roots, the store's Merkle nodes) done by a worker thread
 * (chain-lane-worker.mjs) while the main thread reads, decodes, checks and — in `wk replay` —
 * re-executes. Each entry is still read and decoded once: the main thread copies its hash
 * preimage into a batch it transfers. Hashing is ≈ 10% of a replay's time on one core
 * (tools/bench/kernel.bench.ts, "wk replay vs re-execution alone"), so on a second core
 * replay costs about what re-execution alone costs.
 *
 * Everything here is synchronous from the main thread's side, so the walk never yields to
 * the event loop for it: the worker counts finished batches in shared memory (the main
 * thread waits there when it is `MAX_AHEAD` batches ahead) and posts its answers on a port
 * the main thread reads with `receiveMessageOnPort`. A fault the lane finds is reported with
 * its walk position and stage so verify.ts can name the same first fault a one-thread walk
 * would.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { entryPreimageLength, writeEntryPreimage } from "./entry-hash.js";
import { JournalError } from "./errors.js";
import type { JournalEntry } from "./store.js";

/** A fault the lane found: where in the walk (`pos`, and `stage` within that entry), what and why. */
export interface LaneFault {
  pos: number;
  stage: number;
  fault: string;
  seq: number;
  message: string;
}

/** Within one entry, the order of verify's checks; a lower stage at the same position is found first. */
export const STAGE = { chain: 0, body: 1, checkpoint: 2, root: 3, signature: 4, checks: 5, node: 6 } as const;

/** Entries per batch handed to the worker. */
const BATCH_ENTRIES = 1024;
/** Batches the main thread may run ahead of the worker before it waits. */
const MAX_AHEAD = 8;
/** How long the main thread waits without the worker finishing a batch before it gives up. */
const STALL_MS = 60_000;

type LaneMessage = { fault: LaneFault } | { crash: string } | { end: true; size: number; root?: Uint8Array };

/** How a lane's walk ended: its first fault, or the root of the tree of all it was handed. */
export type LaneEnd = { fault: LaneFault } | { root: Uint8Array; size: number };

/** The stored Merkle nodes completed by entries from..to, by node key (sqlite-store's `nodesCompletedSync`). */
export type CompletedNodes = (fromSeq: number, toSeq: number) => Map<number, Uint8Array> | undefined;

/** The hashing half of a journal walk from genesis, on a worker thread. */
export class ChainLane {
  private buf = new ArrayBuffer(1 << 18);
  private bytes = new Uint8Array(this.buf);
  private view = new DataView(this.buf);
  private at = 0;
  private n = 0;
  /** Seq of the batch's first entry. */
  private first = 0;
  private expects: { pos: number; root: Uint8Array }[] = [];
  private sent = 0;
  private found: LaneFault | undefined;
  private ended: LaneEnd | undefined;
  private readonly counters: Int32Array;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    shared: SharedArrayBuffer,
    private readonly nodes: CompletedNodes,
  ) {
    this.counters = new Int32Array(shared);
  }

  /** Starts a lane for a walk from genesis over a store whose stored nodes `nodes` reads. */
  static start(nodes: CompletedNodes): ChainLane {
    const shared = new SharedArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    // No loader: the worker is plain JavaScript (see its @module note).
    const worker = new Worker(new URL("./chain-lane-worker.mjs", import.meta.url), {
      execArgv: [],
      workerData: { shared, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    return new ChainLane(worker, port1, shared, nodes);
  }

  /** Queues an entry (seq = the walk's position) for its chain and tree checks. */
  add(e: JournalEntry): void {
    const len = entryPreimageLength(e.kind, e.body);
    if (this.at + 36 + len > this.bytes.length) this.grow(36 + len);
    if (this.n === 0) this.first = e.seq;
    this.view.setUint32(this.at, len, true);
    this.bytes.set(e.hash, this.at + 4);
    writeEntryPreimage(this.bytes, this.at + 36, e.prev_hash, e.seq, e.kind, e.body);
    this.at += 36 + len;
    this.n++;
  }

  /** The tree of the first `pos` entries must have this root (a checkpoint at seq `pos` signed it). */
  expectRoot(pos: number, root: Uint8Array): void {
    this.expects.push({ pos, root });
  }

  /** Hands a full batch to the worker; returns the lane's first fault once it has found one. */
  step(): LaneFault | undefined {
    if (this.n >= BATCH_ENTRIES) this.flush();
    return this.poll();
  }

  /** Waits for the worker to finish everything queued: its first fault, or the root of the whole walk. */
  finish(): LaneEnd {
    this.ended ??= this.end();
    return this.ended;
  }

  private end(): LaneEnd {
    this.flush();
    this.worker.postMessage({ end: true });
    this.sent++;
    this.waitUntil(this.sent);
    for (let m = this.read(); m !== undefined; m = this.read()) {
      if ("end" in m) {
        if (this.found !== undefined) return { fault: this.found };
        return { root: m.root!, size: m.size };
      }
    }
    if (this.found !== undefined) return { fault: this.found };
    throw new JournalError("journal.verify_lane_failed", "the chain lane finished without an answer");
  }

  /** Stops the worker (after `finish`, or when the walk stops early). */
  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }

  private flush(): void {
    if (this.n === 0 && this.expects.length === 0) return;
    const last = this.first + this.n - 1;
    const stored = this.n === 0 ? new Map<number, Uint8Array>() : this.nodes(this.first, last);
    if (stored === undefined) throw new JournalError("journal.verify_lane_failed", "the store cannot list its nodes");
    const nodeKeys = new Float64Array(stored.size);
    const nodeHashes = new Uint8Array(stored.size * 32);
    let i = 0;
    for (const [k, h] of stored) {
      nodeKeys[i] = k;
      nodeHashes.set(h, i * 32);
      i++;
    }
    const buf = this.buf;
    this.worker.postMessage({ buf, n: this.n, expects: this.expects, nodeKeys, nodeHashes }, [
      buf,
      nodeKeys.buffer,
      nodeHashes.buffer,
    ]);
    this.sent++;
    this.buf = new ArrayBuffer(this.bytes.length);
    this.bytes = new Uint8Array(this.buf);
    this.view = new DataView(this.buf);
    this.at = 0;
    this.n = 0;
    this.expects = [];
    if (this.sent - Atomics.load(this.counters, 0) > MAX_AHEAD) this.waitUntil(this.sent - MAX_AHEAD);
  }

  private grow(need: number): void {
    const bigger = new ArrayBuffer(Math.max(this.bytes.length * 2, this.at + need));
    new Uint8Array(bigger).set(this.bytes.subarray(0, this.at));
    this.buf = bigger;
    this.bytes = new Uint8Array(bigger);
    this.view = new DataView(bigger);
  }

  /** Blocks until the worker has finished `count` messages. */
  private waitUntil(count: number): void {
    for (;;) {
      const done = Atomics.load(this.counters, 0);
      if (done >= count) return;
      if (Atomics.wait(this.counters, 0, done, STALL_MS) === "timed-out" && Atomics.load(this.counters, 0) === done) {
        const m = this.read();
        throw new JournalError(
          "journal.verify_lane_failed",
          m !== undefined && "crash" in m
            ? `the chain lane failed: ${m.crash}`
            : `the chain lane made no progress for ${STALL_MS / 1000} s`,
        );
      }
    }
  }

  private poll(): LaneFault | undefined {
    if (this.found === undefined && Atomics.load(this.counters, 1) === 1) this.read();
    return this.found;
  }

  /** Takes one message off the port, keeping a fault; a crash of the walk itself is raised. */
  private read(): LaneMessage | undefined {
    const r = receiveMessageOnPort(this.port) as { message: LaneMessage } | undefined;
    if (r === undefined) return undefined;
    const m = r.message;
    if ("crash" in m) throw new JournalError("journal.verify_lane_failed", `the chain lane failed: ${m.crash}`);
    if ("fault" in m) this.found ??= m.fault;
    return m;
  }
}
