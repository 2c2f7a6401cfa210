/**
 * @module A scripted agent for worlds/analysis: what each step does is written in its input, so
 * one binary can play every pattern `wk analyze` looks for. A request (`demo/ToA@1`, `ToB`, `ToC`:
 * one record type) names events to pass on (`next`, a chain: the first is emitted carrying the
 * rest), events to emit at once (`fanout`), effects to ask for (kind, cap slot, canonical CBOR
 * params), whether to fail (trap), and what to do with a failed receipt from then on (`on_fail`:
 * `ignore`, `report` it with a `demo/ToC@1` of status "failed", `claim` status "done", or
 * `retry` the last effect `retries` times).
 */
import { Cbor, Ctx, Effect, Event, Kind, StepResult, runStep } from "../sdk/index";

function request(key: string, next: Array<Cbor>, status: string): Cbor {
  const n = Cbor.array();
  for (let i = 0; i < next.length; i++) n.push(next[i]);
  return Cbor.map().set("key", Cbor.text(key)).set("next", n).set("fanout", Cbor.array()).set("effects", Cbor.array())
    .set("then", Cbor.array()).set("on_fail", Cbor.text("")).set("retries", Cbor.uint(0)).set("fail", Cbor.bool(false))
    .set("status", Cbor.text(status));
}

function agent(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const st = state !== null ? state : Cbor.map().set("on_fail", Cbor.text("ignore")).set("retries", Cbor.uint(0))
    .set("last_kind", Cbor.text("")).set("last_slot", Cbor.text("")).set("last", Cbor.bytesOf(new Uint8Array(0)))
    .set("then", Cbor.array());
  const out = new StepResult(st);
  const key = event.key === null ? "" : event.key!;
  if (event.schema == "sys/EffectReceiptEnvelope@1") {
    if (event.value.get("status")!.asText() == "ok") {
      const then = st.get("then")!.items;
      if (then.length == 0) return out;
      st.set("then", Cbor.array());
      return out.emit(new Event(then[0].asText(), request(key, then.slice(1), ""), key));
    }
    const mode = st.get("on_fail")!.asText();
    if (mode == "report") return out.emit(new Event("demo/ToC@1", request(key, [], "failed"), key));
    if (mode == "claim") return out.emit(new Event("demo/ToC@1", request(key, [], "done"), key));
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
  const fan = v.get("fanout")!.items;
  if (next.length > 0) {
    // Not the last hop: the request goes on, its effects with it.
    const on = request(key, next.slice(1), "").set("effects", v.get("effects")!).set("then", v.get("then")!)
      .set("on_fail", v.get("on_fail")!).set("retries", v.get("retries")!);
    out.emit(new Event(next[0].asText(), on, key));
  }
  for (let i = 0; i < fan.length; i++) out.emit(new Event(fan[i].asText(), request(key, [], ""), key));
  if (next.length > 0) return out;
  const effects = v.get("effects")!.items;
  if (effects.length > 0) st.set("then", v.get("then")!);
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
