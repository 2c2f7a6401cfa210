/**
 * @module A state migration (a pure module): demo/CounterState@1 {count, events} →
 * demo/CounterState@2 {count, events, level}, with level = count / 100. The kernel calls `run`
 * once per cell of the migrated workflow, with the old state as input.
 */
import { Cbor, Ctx, runPure } from "../sdk/index";

function migrate(old: Cbor, ctx: Ctx): Cbor {
  const count = old.get("count")!.asU64();
  return Cbor.map()
    .set("count", Cbor.uint(count))
    .set("events", Cbor.uint(old.get("events")!.asU64()))
    .set("level", Cbor.uint(count / 100));
}

export function run(): i32 {
  return runPure(migrate);
}
