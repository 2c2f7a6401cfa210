/**
 * @module The keyed counter workflow as a JavaScript component (demo/CounterEvent@1 →
 * demo/CounterState@1, with a demo/CounterMilestone@1 event whenever the count crosses a
 * multiple of 100). Counts are bigint so they stay exact past 2^53.
 */
import { defineStep, definePure } from "../sdk/index.js";

function counter(state, event) {
  const { key, by } = event.value;
  if (typeof key !== "string") throw new TypeError("counter: value.key must be text");
  const old = BigInt(state?.count ?? 0);
  const count = old + BigInt(by);
  const next = { count, events: BigInt(state?.events ?? 0) + 1n };
  const events =
    old / 100n !== count / 100n ? [{ schema: "demo/CounterMilestone@1", value: { key, count }, key }] : [];
  return { state: next, events };
}

export const step = defineStep(counter);

/** Pure form: the same transition for `{state, event}`, returned as the step output would be. */
export const run = definePure((input) => {
  const r = counter(input.state, input.event);
  return { state: r.state, events: r.events, effects: [], ann: null };
});
