/**
 * @module Worker-thread body of verify's chain lane (chain-lane.ts): the hashing half of a
 * journal walk, on the second core while the main thread decodes, checks and re-executes.
 * Plain JavaScript with node:crypto only, on purpose: it starts with no loader (execArgv [])
 * in every host — tsx, vitest, the compiled package — and knows no journal format. The main
 * thread hands it each entry's hash preimage (entry-hash.ts writes it; the preimage begins
 * with the entry's stored prev_hash) and stored hash; this walk checks what verify.ts's
 * inline walk checks about the chain and the tree, in the same order and with the same
 * messages: the prev_hash links, the recomputed hash equals the stored one, a checkpoint's
 * root is the tree's, and every stored Merkle node (RFC 6962 shape) is the recomputed one.
 *
 * Protocol. workerData: {shared: SharedArrayBuffer (Int32 [batches done, fault seen]), port}.
 * Messages in: {buf, n, expects: [{pos, root}], nodeKeys: Float64Array, nodeHashes} per
 * batch (buf entries: u32le preimage length ‖ stored hash(32) ‖ preimage), then {end: true}.
 * Out on `port`: {fault: {pos, stage, fault, seq, message}} once, at the first fault;
 * {crash: text} if this walk itself fails; {end: true, size, root} at the end. Every
 * message in bumps shared[0] when it is done.
 */
import { hash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";

const { shared, port } = workerData;
const counters = new Int32Array(shared);

/** The stage of each check within one entry (verify.ts orders faults at a position by it). */
const STAGE_CHAIN = 0;
const STAGE_ROOT = 3;
const STAGE_NODE = 6;
/** Merkle levels a store keeps (merkle.ts STORED_NODE_LEVEL). */
const STORED_NODE_LEVEL = 4;

const sha = (bytes) => {
  const s = hash("sha256", bytes, "binary");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
};
const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const equal = (a, b) => {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
};
const leafBuf = new Uint8Array(33);
const nodeBuf = new Uint8Array(65).fill(1, 0, 1);
const leafHash = (h) => {
  leafBuf.set(h, 1);
  return sha(leafBuf);
};
const nodeHash = (l, r) => {
  nodeBuf.set(l, 1);
  nodeBuf.set(r, 33);
  return sha(nodeBuf);
};

let prev = new Uint8Array(32);
/** frontier[l]: root of the perfect subtree of 2^l leaves while bit l of size is set. */
const frontier = [];
let size = 0;
let failed = false;

const root = () => {
  let r;
  for (let level = 0; level < frontier.length; level++) {
    const h = frontier[level];
    if (h === undefined) continue;
    r = r === undefined ? h : nodeHash(h, r);
  }
  return r ?? sha(new Uint8Array(0));
};

class Fault {
  constructor(pos, stage, fault, seq, message) {
    Object.assign(this, { pos, stage, fault, seq, message });
  }
}

function append(leaf, nodes) {
  let carry = leaf;
  let level = 0;
  let n = size;
  while (n % 2 === 1) {
    carry = nodeHash(frontier[level], carry);
    frontier[level] = undefined;
    level++;
    n = (n - 1) / 2;
    if (level >= STORED_NODE_LEVEL) {
      const stored = nodes.get(((n + 1) * 2 ** level - 1) * 64 + level) ?? null;
      if (stored === null || !equal(stored, carry)) {
        const last = (n + 1) * 2 ** level - 1;
        throw new Fault(
          size,
          STAGE_NODE,
          "tree_mismatch",
          last,
          `the store's Merkle node at level ${level} index ${n} (entries ${n * 2 ** level}..${last}) is ${stored === null ? "missing" : hex(stored)}; the entries give ${hex(carry)}`,
        );
      }
    }
  }
  frontier[level] = carry;
  size++;
}

function batch({ buf, n, expects, nodeKeys, nodeHashes }) {
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  const nodes = new Map();
  for (let i = 0; i < nodeKeys.length; i++) nodes.set(nodeKeys[i], nodeHashes.subarray(i * 32, i * 32 + 32));
  let e = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(at, true);
    const stored = bytes.subarray(at + 4, at + 36);
    const pre = bytes.subarray(at + 36, at + 36 + len);
    at += 36 + len;
    const seq = size;
    const linked = pre.subarray(0, 32);
    if (!equal(linked, prev))
      throw new Fault(
        seq,
        STAGE_CHAIN,
        "bad_prev_hash",
        seq,
        `prev_hash ${hex(linked)} is not the hash of seq ${seq - 1} (${hex(prev)})`,
      );
    const h = sha(pre);
    if (!equal(h, stored))
      throw new Fault(seq, STAGE_CHAIN, "hash_mismatch", seq, `stored hash ${hex(stored)}, recomputed ${hex(h)}`);
    while (e < expects.length && expects[e].pos === seq) {
      const r = root();
      if (!equal(expects[e].root, r))
        throw new Fault(
          seq,
          STAGE_ROOT,
          "checkpoint_mismatch",
          seq,
          `checkpoint root ${hex(expects[e].root)}, recomputed ${hex(r)}`,
        );
      e++;
    }
    append(leafHash(stored), nodes);
    prev = stored;
  }
}

parentPort.on("message", (msg) => {
  try {
    if (msg.end) port.postMessage({ end: true, size, root: failed ? undefined : root() });
    else if (!failed) batch(msg);
  } catch (err) {
    failed = true;
    // A fault of the journal, or (never expected) one of this walk, which the main thread raises as such.
    if (err instanceof Fault)
      port.postMessage({
        fault: { pos: err.pos, stage: err.stage, fault: err.fault, seq: err.seq, message: err.message },
      });
    else port.postMessage({ crash: String(err?.stack ?? err) });
    Atomics.store(counters, 1, 1);
  }
  Atomics.add(counters, 0, 1);
  Atomics.notify(counters, 0);
});
