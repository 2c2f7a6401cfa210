/**
 * @module Injection attempts against the effect gate, on a real World (SQLite journal, real
 * wasm, real adapters, a real page server on 127.0.0.1). A tiny AssemblyScript emitter,
 * compiled here, emits whatever effect its request event carries verbatim — the worst a
 * prompt-injected module could do — and records every receipt delivered back. Each attempt
 * must be stopped and journaled: a gate `deny` decision plus a signed `denied` receipt, or,
 * for addresses only DNS or the socket can judge, an allowed intent whose adapter refuses
 * to connect (`error` receipt `private_address_denied`) before a byte leaves.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCatalogOrThrow,
  decodeStored,
  encodeCanonical,
  hashBytes,
  type CborObject,
  type CborValue,
} from "../../air/index.js";
import { buildModule } from "../../kernel/adapters/compile/build.js";
import { World, createWorld, replayWorld, type WorldSource } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";

const MODULE = "test/Emitter@1";
const EMITTER = `
import { Cbor, Ctx, Effect, Event, StepResult, runStep } from "../sdk/index";

// Emits the effect its request carries verbatim; appends "<kind> <status> <code>" per receipt.
function emitter(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const seen = state === null ? Cbor.array() : state.get("receipts")!;
  if (event.schema == "sys/EffectReceiptEnvelope@1") {
    const payload = Cbor.decode(event.value.get("payload")!.asBytes());
    const code = payload.get("code");
    const line = event.value.get("effect_kind")!.asText() + " " + event.value.get("status")!.asText() + " " + (code === null ? "-" : code.asText());
    seen.push(Cbor.text(line));
    return new StepResult(Cbor.map().set("receipts", seen));
  }
  const params = Cbor.decode(event.value.get("params")!.asBytes());
  const e = new Effect(event.value.get("kind")!.asText(), params, event.value.get("slot")!.asText());
  return new StepResult(Cbor.map().set("receipts", seen)).effect(e);
}

export function step(): i32 {
  return runStep(emitter);
}
`;

/** The test world's AIR: one module, slots bound to variant grants. */
function airDefs(wasmHash: string): unknown[] {
  return [
    {
      $kind: "defschema",
      name: "test/Emit@1",
      type: { record: { key: { text: {} }, kind: { text: {} }, slot: { text: {} }, params: { bytes: {} } } },
    },
    { $kind: "defschema", name: "test/EmitterState@1", type: { record: { receipts: { list: { text: {} } } } } },
    {
      $kind: "defmodule",
      name: MODULE,
      module_kind: "workflow",
      wasm_hash: wasmHash,
      abi: {
        workflow: {
          state: "test/EmitterState@1",
          event: "test/Emit@1",
          effects_emitted: ["http.request", "llm.generate", "blob.put"],
          cap_slots: {
            net: "http.out",
            strict: "http.out",
            open: "http.out",
            once: "http.out",
            expired: "http.out",
            llm: "llm.basic",
            llm_tiny: "llm.basic",
            store: "blob",
            unbound: "http.out",
          },
        },
      },
    },
    {
      $kind: "defpolicy",
      name: "test/gate-policy@1",
      rules: [
        { when: { effect_kind: "http.request", module: MODULE }, decision: "allow" },
        { when: { effect_kind: "llm.generate", module: MODULE }, decision: "allow" },
      ],
    },
    {
      $kind: "manifest",
      air_version: "1",
      schemas: [{ name: "test/Emit@1" }, { name: "test/EmitterState@1" }],
      modules: [{ name: MODULE }],
      effects: [{ name: "sys/http.request@1" }, { name: "sys/llm.generate@1" }, { name: "sys/blob.put@1" }],
      caps: [{ name: "sys/http.out@1" }, { name: "sys/llm.basic@1" }, { name: "sys/blob@1" }],
      policies: [{ name: "test/gate-policy@1" }],
      defaults: {
        policy: "test/gate-policy@1",
        cap_grants: [
          {
            name: "web",
            cap: "sys/http.out@1",
            params: { hosts: ["127.0.0.1"], schemes: ["http"], methods: ["GET"], allow_private: ["127.0.0.1"] },
          },
          {
            name: "strict",
            cap: "sys/http.out@1",
            params: { hosts: ["127.0.0.1", "localhost"], schemes: ["http"], methods: ["GET"] },
          },
          { name: "open", cap: "sys/http.out@1", params: { schemes: ["http"] } },
          {
            name: "once",
            cap: "sys/http.out@1",
            params: { hosts: ["127.0.0.1"], allow_private: ["127.0.0.1"] },
            budget: { count: 1 },
          },
          {
            name: "expired",
            cap: "sys/http.out@1",
            params: { hosts: ["127.0.0.1"], allow_private: ["127.0.0.1"] },
            expiry_ns: 1,
          },
          {
            name: "model",
            cap: "sys/llm.basic@1",
            params: { providers: ["local"], max_tokens: 256 },
            budget: { tokens: 10000 },
          },
          { name: "tiny", cap: "sys/llm.basic@1", params: { providers: ["local"] }, budget: { tokens: 100 } },
          { name: "cas", cap: "sys/blob@1", params: { namespaces: ["src"] } },
        ],
      },
      module_bindings: {
        [MODULE]: {
          slots: {
            net: "web",
            strict: "strict",
            open: "open",
            once: "once",
            expired: "expired",
            llm: "model",
            llm_tiny: "tiny",
            store: "cas",
          },
        },
      },
      routing: { subscriptions: [{ event: "test/Emit@1", module: MODULE, key_field: "key" }] },
    },
  ];
}

const get = (url: string): CborValue => ({ method: "GET", url, headers: {}, body_ref: null });
const llm = (maxTokens: number): CborValue => ({
  provider: "local",
  model: "local-summary",
  messages_ref: new Uint8Array(32).fill(1),
  max_tokens: maxTokens,
  temperature: null,
});

interface Attempt {
  name: string;
  kind: string;
  slot: string;
  params: (base: string) => CborValue;
  /** The gate's journaled decision. */
  decision: { decision: "deny" | "allow"; stage: string; code: string };
  /** The receipt delivered back to the module. */
  receipt: { status: "denied" | "error"; code: string };
}

const ATTEMPTS: Attempt[] = [
  {
    name: "effect kind the manifest does not declare",
    kind: "timer.set",
    slot: "net",
    params: () => ({ deliver_at_ns: 1, key: null }),
    decision: { decision: "deny", stage: "catalog", code: "gate.unknown_effect" },
    receipt: { status: "denied", code: "gate.unknown_effect" },
  },
  {
    name: "cap slot the module does not have",
    kind: "http.request",
    slot: "admin",
    params: (b) => get(b),
    decision: { decision: "deny", stage: "slot", code: "gate.no_slot" },
    receipt: { status: "denied", code: "gate.no_slot" },
  },
  {
    name: "cap slot bound to no grant",
    kind: "http.request",
    slot: "unbound",
    params: (b) => get(b),
    decision: { decision: "deny", stage: "slot", code: "gate.unbound_slot" },
    receipt: { status: "denied", code: "gate.unbound_slot" },
  },
  {
    name: "slot of the wrong cap type",
    kind: "llm.generate",
    slot: "net",
    params: () => llm(10),
    decision: { decision: "deny", stage: "slot", code: "gate.slot_type" },
    receipt: { status: "denied", code: "gate.slot_type" },
  },
  {
    name: "params that do not match the schema",
    kind: "http.request",
    slot: "net",
    params: (b) => ({ method: "GET", url: b }),
    decision: { decision: "deny", stage: "params", code: "gate.bad_params" },
    receipt: { status: "denied", code: "gate.bad_params" },
  },
  {
    name: "host outside the allowlist",
    kind: "http.request",
    slot: "net",
    params: () => get("http://example.com/"),
    decision: { decision: "deny", stage: "grant", code: "host_not_allowed" },
    receipt: { status: "denied", code: "host_not_allowed" },
  },
  {
    name: "method outside the allowlist",
    kind: "http.request",
    slot: "net",
    params: (b) => ({ ...(get(b) as object), method: "DELETE" }),
    decision: { decision: "deny", stage: "grant", code: "method_not_allowed" },
    receipt: { status: "denied", code: "method_not_allowed" },
  },
  {
    name: "cloud metadata address (not in hosts)",
    kind: "http.request",
    slot: "net",
    params: () => get("http://169.254.169.254/latest/meta-data/"),
    decision: { decision: "deny", stage: "grant", code: "host_not_allowed" },
    receipt: { status: "denied", code: "host_not_allowed" },
  },
  {
    name: "cloud metadata address under a grant with no host list",
    kind: "http.request",
    slot: "open",
    params: () => get("http://169.254.169.254/latest/meta-data/"),
    decision: { decision: "deny", stage: "grant", code: "private_address_denied" },
    receipt: { status: "denied", code: "private_address_denied" },
  },
  {
    name: "127.0.0.1 without allow_private",
    kind: "http.request",
    slot: "strict",
    params: (b) => get(b),
    decision: { decision: "deny", stage: "grant", code: "private_address_denied" },
    receipt: { status: "denied", code: "private_address_denied" },
  },
  {
    name: "a host name resolving to loopback (localhost)",
    kind: "http.request",
    slot: "strict",
    params: (b) => get(b.replace("127.0.0.1", "localhost")),
    decision: { decision: "allow", stage: "policy", code: "policy.allow" },
    receipt: { status: "error", code: "private_address_denied" },
  },
  {
    name: "LLM call over the grant's max_tokens ceiling",
    kind: "llm.generate",
    slot: "llm",
    params: () => llm(1000),
    decision: { decision: "deny", stage: "grant", code: "max_tokens_exceeded" },
    receipt: { status: "denied", code: "max_tokens_exceeded" },
  },
  {
    name: "LLM call over the grant's token budget",
    kind: "llm.generate",
    slot: "llm_tiny",
    params: () => llm(200),
    decision: { decision: "deny", stage: "budget", code: "gate.budget_exhausted" },
    receipt: { status: "denied", code: "gate.budget_exhausted" },
  },
  {
    name: "LLM provider outside the allowlist",
    kind: "llm.generate",
    slot: "llm",
    params: () => ({ ...(llm(10) as object), provider: "openai" }),
    decision: { decision: "deny", stage: "grant", code: "provider_not_allowed" },
    receipt: { status: "denied", code: "provider_not_allowed" },
  },
  {
    name: "blob namespace outside the grant",
    kind: "blob.put",
    slot: "store",
    params: () => ({ namespace: "secrets", bytes: new Uint8Array([1]) }),
    decision: { decision: "deny", stage: "grant", code: "namespace_not_allowed" },
    receipt: { status: "denied", code: "namespace_not_allowed" },
  },
  {
    name: "effect no policy rule allows",
    kind: "blob.put",
    slot: "store",
    params: () => ({ namespace: "src", bytes: new Uint8Array([1]) }),
    decision: { decision: "deny", stage: "policy", code: "policy.deny" },
    receipt: { status: "denied", code: "policy.deny" },
  },
  {
    name: "expired grant",
    kind: "http.request",
    slot: "expired",
    params: (b) => get(b),
    decision: { decision: "deny", stage: "grant", code: "gate.grant_expired" },
    receipt: { status: "denied", code: "gate.grant_expired" },
  },
];

/** The decision and receipt the journal holds for the intent caused by ingress event `seq`. */
async function outcomeOf(
  world: World,
  causeSeq: number,
): Promise<{ decision: CborObject; receipt: CborObject; payload: CborObject; delivered: boolean; intent: CborObject }> {
  let intent: CborObject | undefined,
    decision: CborObject | undefined,
    receipt: CborObject | undefined,
    payload: CborObject | undefined;
  let delivered = false;
  for await (const e of world.store.iterate(causeSeq)) {
    const b = decodeStored(e.body) as CborObject;
    if (e.kind === "effect_intent" && b.cause_seq === causeSeq && !intent) intent = b;
    if (!intent) continue;
    if (e.kind === "policy_decision" && b.intent_id === intent.intent_id) decision = b;
    if (e.kind === "effect_receipt" && b.intent_id === intent.intent_id) {
      receipt = b.receipt as CborObject;
      payload = b.payload as CborObject;
    }
    if (
      e.kind === "event" &&
      (b.origin as CborObject).kind === "receipt" &&
      (b.origin as CborObject).intent_id === intent.intent_id
    )
      delivered = true;
  }
  if (!intent || !decision || !receipt || !payload)
    throw new Error(`no complete intent/decision/receipt after seq ${causeSeq}`);
  return { intent, decision, receipt, payload, delivered };
}

describe("effect gate: injection attempts are blocked and journaled", () => {
  let server: Server;
  let base = "";
  let hits = 0;
  let world: World;
  let dir = "";

  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end("hello");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/x`;
    const built = await buildModule({ language: "assemblyscript", source: new TextEncoder().encode(EMITTER) });
    if (!built.ok) throw new Error(`emitter did not compile: ${built.diagnostics.join("\n")}`);
    const h = hashBytes(built.wasm);
    const source: WorldSource = {
      catalog: buildCatalogOrThrow([{ file: "gate.air.json", value: airDefs(h) }]),
      wasm: new Map([[h, built.wasm]]),
    };
    dir = join(mkdtempSync(join(tmpdir(), "wk-gate-")), "w");
    world = await createWorld(dir, source, { adapters: defaultAdapters() });
  }, 60_000);
  afterAll(async () => {
    await world?.close({ snapshot: false });
    await new Promise<void>((r) => server.close(() => r()));
  });

  const send = async (key: string, kind: string, slot: string, params: CborValue) =>
    world.send("test/Emit@1", { key, kind, slot, params: Buffer.from(encodeCanonical(params)).toString("base64") });

  it.each(ATTEMPTS.map((a) => [a.name, a] as const))("%s", async (_name, a) => {
    const before = hits;
    const r = await send(a.name, a.kind, a.slot, a.params(base));
    expect(r.failures).toBe(0);
    const o = await outcomeOf(world, r.seq);
    expect(o.decision).toMatchObject(a.decision);
    expect(o.receipt).toMatchObject({ status: a.receipt.status, effect_kind: a.kind });
    expect(o.payload.code).toBe(a.receipt.code);
    // Denials are the gate's own receipts; errors come from the adapter that refused.
    expect(o.receipt.adapter_id).toBe(a.receipt.status === "denied" ? "kernel.gate" : "worldkernel.http");
    expect(o.delivered).toBe(true);
    expect(world.cellState(MODULE, a.name)).toEqual({ receipts: [`${a.kind} ${a.receipt.status} ${a.receipt.code}`] });
    expect(hits).toBe(before); // nothing reached the server
  });

  it("a budget of one call: the first is performed, the second denied at the budget stage", async () => {
    const before = hits;
    const first = await outcomeOf(world, (await send("budget", "http.request", "once", get(`${base}?1`))).seq);
    expect(first.decision).toMatchObject({ decision: "allow", grant: "once" });
    expect(first.receipt.status).toBe("ok");
    const second = await outcomeOf(world, (await send("budget", "http.request", "once", get(`${base}?2`))).seq);
    expect(second.decision).toMatchObject({
      decision: "deny",
      stage: "budget",
      code: "gate.budget_exhausted",
      grant: "once",
    });
    expect(second.receipt.status).toBe("denied");
    expect(world.cellState(MODULE, "budget")).toEqual({
      receipts: ["http.request ok -", "http.request denied gate.budget_exhausted"],
    });
    expect(hits).toBe(before + 1);
  });

  it("replay reproduces every decision and receipt without calling an adapter", async () => {
    const root = world.stateRefs().state_root;
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
  });
});
