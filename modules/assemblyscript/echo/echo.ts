/**
 * @module A pure `run` that returns its input: exercises the SDK's CBOR decoder and
 * canonical encoder (tests feed it unsorted maps and expect canonical bytes back).
 */
import { Cbor, Ctx, runPure } from "../sdk/index";

function echo(input: Cbor, ctx: Ctx): Cbor {
  return input;
}

export function run(): i32 {
  return runPure(echo);
}
