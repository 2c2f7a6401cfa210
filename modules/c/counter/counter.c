/*
 * The keyed counter workflow in C (demo/CounterEvent@1 -> demo/CounterState@1, with a
 * demo/CounterMilestone@1 event whenever the count crosses a multiple of 100).
 */
#include "../sdk/wk.h"

static wk_result counter(const wk_val *state, const wk_event *ev, const wk_ctx *ctx) {
  (void)ctx;
  const wk_val *key = wk_get(ev->value, "key");
  if (!key || key->kind != WK_TEXT) wk_fail("counter: event.value.key must be text");
  uint64_t by = wk_as_u64(wk_get(ev->value, "by"));
  uint64_t old = state ? wk_as_u64(wk_get(state, "count")) : 0;
  uint64_t seen = state ? wk_as_u64(wk_get(state, "events")) : 0;
  uint64_t count = old + by;
  wk_val *next = wk_map();
  wk_set(next, "count", wk_uint(count));
  wk_set(next, "events", wk_uint(seen + 1));
  wk_result r = wk_result_new(next);
  if (old / 100 != count / 100) {
    wk_val *value = wk_map();
    wk_set(value, "key", wk_textn(key->ptr, key->len));
    wk_set(value, "count", wk_uint(count));
    wk_emit(&r, "demo/CounterMilestone@1", value, wk_textn(key->ptr, key->len));
  }
  return r;
}

WK_EXPORT_STEP(counter)
