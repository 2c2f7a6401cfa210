/**
 * @module A minimal effectful workflow (test/fixtures/worlds/fetcher): each demo/Fetch@1
 * event asks the kernel for one GET of its url on slot "net"; each receipt delivered back
 * is counted in the cell's state with its status.
 */
import { Cbor, Ctx, Effect, Event, StepResult, runStep } from "../sdk/index";

function fetcher(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const requested: u64 = state === null ? 0 : state.get("requested")!.asU64();
  const receipts: u64 = state === null ? 0 : state.get("receipts")!.asU64();
  const last = state === null ? Cbor.nil() : state.get("last_status")!;
  if (event.schema == "sys/EffectReceiptEnvelope@1") {
    const next = Cbor.map().set("requested", Cbor.uint(requested)).set("receipts", Cbor.uint(receipts + 1)).set("last_status", event.value.get("status")!);
    return new StepResult(next);
  }
  const params = Cbor.map()
    .set("method", Cbor.text("GET"))
    .set("url", event.value.get("url")!)
    .set("headers", Cbor.map())
    .set("body_ref", Cbor.nil());
  const next = Cbor.map().set("requested", Cbor.uint(requested + 1)).set("receipts", Cbor.uint(receipts)).set("last_status", last);
  return new StepResult(next).effect(new Effect("http.request", params, "net"));
}

export function step(): i32 {
  return runStep(fetcher);
}
