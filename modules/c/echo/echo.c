/*
 * A pure `run` that returns its input: exercises the SDK's CBOR decoder and canonical
 * encoder (tests feed it unsorted maps and expect canonical bytes back).
 */
#include "../sdk/wk.h"

static wk_val *echo(const wk_val *input, const wk_ctx *ctx) {
  (void)ctx;
  return (wk_val *)input;
}

WK_EXPORT_RUN(echo)
