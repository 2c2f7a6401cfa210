/**
 * @module A timer workflow (test/fixtures/worlds/alarm): demo/SetAlarm@1 asks for a
 * timer.set at `at_ns`; the receipt delivered when it fires is counted in the cell.
 */
import { Cbor, Ctx, Effect, Event, StepResult, runStep } from "../sdk/index";

function alarm(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const set: u64 = state === null ? 0 : state.get("set")!.asU64();
  const fired: u64 = state === null ? 0 : state.get("fired")!.asU64();
  if (event.schema == "sys/EffectReceiptEnvelope@1") {
    const ok: u64 = event.value.get("status")!.asText() == "ok" ? 1 : 0;
    return new StepResult(Cbor.map().set("set", Cbor.uint(set)).set("fired", Cbor.uint(fired + ok)));
  }
  const params = Cbor.map().set("deliver_at_ns", event.value.get("at_ns")!).set("key", Cbor.text(event.key!));
  return new StepResult(Cbor.map().set("set", Cbor.uint(set + 1)).set("fired", Cbor.uint(fired))).effect(new Effect("timer.set", params, "clock"));
}

export function step(): i32 {
  return runStep(alarm);
}
