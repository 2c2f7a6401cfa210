/**
 * @module The world the analysis tests record journals in: one AssemblyScript agent (built from
 * source here) run as three modules, t/A@1, t/B@1 and t/C@1, driven by its input. A request names
 * events to pass on (`next`, a chain: the first is emitted carrying the rest), events to emit at
 * once (`fanout`), effects to ask for, whether to fail (trap), and what to do with a failed
 * receipt (`on_fail`: ignore, report with a t/ToC@1 `status: "failed"`, claim `status: "done"`, or
 * retry the effect `retries` times). Module X takes t/ToX@1. Its slots: `net` (HTTP to 127.0.0.1, allowed), `once` (the same, one
 * use in budget), `held` (needs an approver; intents live `TTL` ns). The clock is injected.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCatalogOrThrow, encodeCanonical, hashBytes, type CborValue } from "../../air/index.js";
import { buildModule } from "../../kernel/adapters/compile/build.js";
import type { KeyPair } from "../../kernel/crypto/keys.js";
import { createWorld, type World, type WorldSource } from "../../kernel/world/index.js";
import type { OpenOptions } from "../../kernel/world/open-options.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";

const AGENT = `
import { Cbor, Ctx, Effect, Event, Kind, StepResult, runStep } from "../sdk/index";

function request(key: string, next: Array<Cbor>, status: string): Cbor {
  const n = Cbor.array();
  for (let i = 0; i < next.length; i++) n.push(next[i]);
  return Cbor.map().set("key", Cbor.text(key)).set("next", n).set("fanout", Cbor.array()).set("effects", Cbor.array())
    .set("on_fail", Cbor.text("")).set("retries", Cbor.uint(0)).set("fail", Cbor.bool(false)).set("status", Cbor.text(status));
}

function agent(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const st = state !== null ? state : Cbor.map().set("on_fail", Cbor.text("ignore")).set("retries", Cbor.uint(0))
    .set("last_kind", Cbor.text("")).set("last_slot", Cbor.text("")).set("last", Cbor.bytesOf(new Uint8Array(0)));
  const out = new StepResult(st);
  const key = event.key === null ? "" : event.key!;
  if (event.schema == "sys/EffectReceiptEnvelope@1") {
    if (event.value.get("status")!.asText() == "ok") return out;
    const mode = st.get("on_fail")!.asText();
    if (mode == "report") return out.emit(new Event("t/ToC@1", request(key, [], "failed"), key));
    if (mode == "claim") return out.emit(new Event("t/ToC@1", request(key, [], "done"), key));
    const left = st.get("retries")!.asU64();
    if (mode == "retry" && left > 0) {
      st.set("retries", Cbor.uint(left - 1));
      return out.effect(new Effect(st.get("last_kind")!.asText(), Cbor.decode(st.get("last")!.asBytes()), st.get("last_slot")!.asText()));
    }
    return out;
  }
  const v = event.value;
  assert(v.get("fail")!.kind != Kind.True, "asked to fail");
  const mode = v.get("on_fail")!.asText();
  if (mode != "") st.set("on_fail", Cbor.text(mode)).set("retries", v.get("retries")!);
  const next = v.get("next")!.items;
  if (next.length > 0) out.emit(new Event(next[0].asText(), request(key, next.slice(1), ""), key));
  const fan = v.get("fanout")!.items;
  for (let i = 0; i < fan.length; i++) out.emit(new Event(fan[i].asText(), request(key, [], ""), key));
  const effects = v.get("effects")!.items;
  for (let i = 0; i < effects.length; i++) {
    const e = effects[i];
    st.set("last_kind", e.get("kind")!).set("last_slot", e.get("slot")!).set("last", e.get("params")!);
    out.effect(new Effect(e.get("kind")!.asText(), Cbor.decode(e.get("params")!.asBytes()), e.get("slot")!.asText()));
  }
  return out;
}

export function step(): i32 {
  return runStep(agent);
}
`;

/** Intent lifetime under the `held` grant. */
export const TTL = 1_000_000_000n;
/** The injected clock's start. */
export const T0 = 1_800_000_000_000_000_000n;

const REQUEST = {
  record: {
    key: { text: {} },
    next: { list: { text: {} } },
    fanout: { list: { text: {} } },
    effects: { list: { record: { kind: { text: {} }, slot: { text: {} }, params: { bytes: {} } } } },
    on_fail: { text: {} },
    retries: { nat: {} },
    fail: { bool: {} },
    status: { text: {} },
  },
};
const SCHEMAS = ["t/ToA@1", "t/ToB@1", "t/ToC@1"];
const MODULES = ["t/A@1", "t/B@1", "t/C@1"];
const ROUTES: [string, string][] = [
  ["t/ToA@1", "t/A@1"],
  ["t/ToB@1", "t/B@1"],
  ["t/ToC@1", "t/C@1"],
];

let built: Promise<Uint8Array> | undefined;
function agentWasm(): Promise<Uint8Array> {
  built ??= (async () => {
    const r = await buildModule({ language: "assemblyscript", source: new TextEncoder().encode(AGENT) });
    if (!r.ok) throw new Error(r.diagnostics.join("\n"));
    return r.wasm;
  })();
  return built;
}

/** The agent world's AIR and binary; `approver` is the held slot's approver. */
export async function agentSource(approver: KeyPair): Promise<WorldSource> {
  const wasm = await agentWasm();
  const h = hashBytes(wasm);
  const http = { hosts: ["127.0.0.1"], schemes: ["http"], methods: ["GET"], allow_private: ["127.0.0.1"] };
  const catalog = buildCatalogOrThrow([
    {
      file: "agent.air.json",
      value: [
        ...SCHEMAS.map((name) => ({ $kind: "defschema", name, type: REQUEST })),
        {
          $kind: "defschema",
          name: "t/S@1",
          type: {
            record: {
              on_fail: { text: {} },
              retries: { nat: {} },
              last_kind: { text: {} },
              last_slot: { text: {} },
              last: { bytes: {} },
            },
          },
        },
        ...MODULES.map((name) => ({
          $kind: "defmodule",
          name,
          module_kind: "workflow",
          wasm_hash: h,
          abi: {
            workflow: {
              state: "t/S@1",
              event: ROUTES.find(([, m]) => m === name)![0],
              effects_emitted: ["http.request"],
              cap_slots: { net: "http.out", once: "http.out", held: "http.out" },
            },
          },
        })),
        {
          $kind: "defpolicy",
          name: "t/p@1",
          rules: [
            { when: { effect_kind: "http.request", cap_name: "held" }, decision: "require_approval" },
            { when: { effect_kind: "http.request" }, decision: "allow" },
          ],
          approvers: [{ id: "ops", public_key: approver.publicKeyHex }],
        },
        {
          $kind: "manifest",
          air_version: "1",
          schemas: [...SCHEMAS, "t/S@1"].map((name) => ({ name })),
          modules: MODULES.map((name) => ({ name })),
          effects: [{ name: "sys/http.request@1" }],
          caps: [{ name: "sys/http.out@1" }],
          policies: [{ name: "t/p@1" }],
          defaults: {
            policy: "t/p@1",
            cap_grants: [
              { name: "net", cap: "sys/http.out@1", params: http },
              { name: "once", cap: "sys/http.out@1", params: http, budget: { count: 1 } },
              { name: "held", cap: "sys/http.out@1", params: http, intent_ttl_ns: Number(TTL) },
            ],
          },
          module_bindings: Object.fromEntries(
            MODULES.map((m) => [m, { slots: { net: "net", once: "once", held: "held" } }]),
          ),
          routing: { subscriptions: ROUTES.map(([event, module]) => ({ event, module, key_field: "key" })) },
        },
      ],
    },
  ]);
  return { catalog, wasm: new Map([[h, wasm]]) };
}

/** A fresh agent world in a temp directory, its clock fixed at T0 unless `opts` says otherwise. */
export async function agentWorld(approver: KeyPair, opts: OpenOptions = {}): Promise<{ w: World; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-analysis-")), "w");
  const w = await createWorld(dir, await agentSource(approver), {
    adapters: defaultAdapters(),
    clock: () => T0,
    anchorLog: false,
    ...opts,
  });
  return { w, dir };
}

/** One effect for a request: an HTTP GET of `url` through `slot`. */
export function get(url: string, slot = "net"): { kind: string; slot: string; params: string } {
  const params: CborValue = { method: "GET", url, headers: {}, body_ref: null };
  return { kind: "http.request", slot, params: Buffer.from(encodeCanonical(params)).toString("base64") };
}

/** A t/ToA@1 request (to t/A@1) for cell `key`; fields not given are empty. */
export function request(
  key: string,
  r: {
    next?: string[];
    fanout?: string[];
    effects?: ReturnType<typeof get>[];
    on_fail?: "ignore" | "report" | "claim" | "retry";
    retries?: number;
    fail?: boolean;
  } = {},
): { schema: string; json: unknown } {
  return {
    schema: "t/ToA@1",
    json: {
      key,
      next: r.next ?? [],
      fanout: r.fanout ?? [],
      effects: r.effects ?? [],
      on_fail: r.on_fail ?? "",
      retries: r.retries ?? 0,
      fail: r.fail ?? false,
      status: "",
    },
  };
}
