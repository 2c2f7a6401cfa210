/**
 * @module worldkernel AssemblyScript SDK: the author writes `step(state, event, ctx)` over
 * CBOR values; `runStep`/`runPure` read the Extism input envelope (ABI version 1),
 * call it, and write the canonical output envelope.
 */
import { Host } from "@extism/as-pdk";
import { Cbor, Kind } from "./cbor";

export { Cbor, Kind } from "./cbor";
export { wkAbort } from "./abort";

/** The envelope version this SDK speaks. */
export const ABI_VERSION: u64 = 1;

/** An event as delivered to (or emitted by) a workflow. */
export class Event {
  constructor(public schema: string, public value: Cbor, public key: string | null) {}
  toCbor(): Cbor {
    return Cbor.map().set("schema", Cbor.text(this.schema)).set("value", this.value).set("key", Cbor.textOrNull(this.key));
  }
}

/** An effect intent: performed by the kernel (if allowed), never by the module. */
export class Effect {
  constructor(public kind: string, public params: Cbor, public capSlot: string) {}
  toCbor(): Cbor {
    return Cbor.map().set("kind", Cbor.text(this.kind)).set("params", this.params).set("cap_slot", Cbor.text(this.capSlot));
  }
}

/** Ingress-stamped context; identical on replay. */
export class Ctx {
  nowNs: u64 = 0;
  logicalNow: u64 = 0;
  journalHeight: u64 = 0;
  entropy: Uint8Array = new Uint8Array(0);
  eventHash: string = "";
  manifestHash: string = "";
  module: string = "";
  key: string | null = null;
  /** The raw ctx map, for fields newer than this SDK. */
  raw: Cbor = Cbor.map();

  static fromCbor(c: Cbor): Ctx {
    const x = new Ctx();
    x.raw = c;
    x.nowNs = field(c, "now_ns").asU64();
    x.logicalNow = field(c, "logical_now").asU64();
    x.journalHeight = field(c, "journal_height").asU64();
    x.entropy = field(c, "entropy").asBytes();
    x.eventHash = field(c, "event_hash").asText();
    x.manifestHash = field(c, "manifest_hash").asText();
    x.module = field(c, "module").asText();
    x.key = field(c, "key").asTextOrNull();
    return x;
  }
}

/** What a step returns: next state (null deletes the cell), events, effects, annotation. */
export class StepResult {
  events: Array<Event> = [];
  effects: Array<Effect> = [];
  ann: Cbor = Cbor.nil();
  constructor(public state: Cbor) {}

  emit(e: Event): StepResult { this.events.push(e); return this; }
  effect(e: Effect): StepResult { this.effects.push(e); return this; }

  toCbor(): Cbor {
    const events = Cbor.array();
    for (let i = 0; i < this.events.length; i++) events.push(this.events[i].toCbor());
    const effects = Cbor.array();
    for (let i = 0; i < this.effects.length; i++) effects.push(this.effects[i].toCbor());
    return Cbor.map().set("state", this.state).set("events", events).set("effects", effects).set("ann", this.ann);
  }
}

/** A workflow step; `state` is null when the cell is new. */
export type StepFn = (state: Cbor | null, event: Event, ctx: Ctx) => StepResult;
/** A pure function of its input. */
export type RunFn = (input: Cbor, ctx: Ctx) => Cbor;

function field(m: Cbor, key: string): Cbor {
  const v = m.get(key);
  if (v === null) throw new Error("envelope: missing field " + key);
  return changetype<Cbor>(v);
}

function envelope(): Cbor {
  const env = Cbor.decode(Host.input());
  assert(env.kind == Kind.Map, "envelope: not a map");
  assert(field(env, "version").asU64() == ABI_VERSION, "envelope: unsupported ABI version");
  return env;
}

/** Body of an exported `step`: decode the envelope, call `fn`, write the output. */
export function runStep(fn: StepFn): i32 {
  const env = envelope();
  const s = field(env, "state");
  const e = field(env, "event");
  const event = new Event(field(e, "schema").asText(), field(e, "value"), field(e, "key").asTextOrNull());
  const result = fn(s.isNull() ? null : s, event, Ctx.fromCbor(field(env, "ctx")));
  Host.output(result.toCbor().encode());
  return 0;
}

/** Body of an exported `run`: decode `{version, input, ctx}`, write `{output}`. */
export function runPure(fn: RunFn): i32 {
  const env = envelope();
  const out = fn(field(env, "input"), Ctx.fromCbor(field(env, "ctx")));
  Host.output(Cbor.map().set("output", out).encode());
  return 0;
}
