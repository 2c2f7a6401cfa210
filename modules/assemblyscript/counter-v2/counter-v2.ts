/**
 * @module The keyed counter over demo/CounterState@2 (count, events and level = count / 100),
 * the module a state migration moves demo/Counter@1 to: see counter-migrate and
 * docs/governance.md, "State migrations".
 */
import { Cbor, Ctx, Event, StepResult, runStep } from "../sdk/index";

function counter(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const by = event.value.get("by")!.asU64();
  const old: u64 = state === null ? 0 : state.get("count")!.asU64();
  const seen: u64 = state === null ? 0 : state.get("events")!.asU64();
  const count = old + by;
  return new StepResult(
    Cbor.map().set("count", Cbor.uint(count)).set("events", Cbor.uint(seen + 1)).set("level", Cbor.uint(count / 100)),
  );
}

export function step(): i32 {
  return runStep(counter);
}
