/**
 * @module The keyed counter workflow in AssemblyScript (demo/CounterEvent@1 →
 * demo/CounterState@1, milestone event every time the count crosses a multiple of 100).
 */
import { Cbor, Ctx, Event, StepResult, runStep } from "../sdk/index";

function counter(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const key = event.value.get("key")!.asText();
  const by = event.value.get("by")!.asU64();
  const old: u64 = state === null ? 0 : state.get("count")!.asU64();
  const seen: u64 = state === null ? 0 : state.get("events")!.asU64();
  const count = old + by;
  const result = new StepResult(Cbor.map().set("count", Cbor.uint(count)).set("events", Cbor.uint(seen + 1)));
  if (old / 100 != count / 100) {
    result.emit(new Event("demo/CounterMilestone@1", Cbor.map().set("key", Cbor.text(key)).set("count", Cbor.uint(count)), key));
  }
  return result;
}

export function step(): i32 {
  return runStep(counter);
}
