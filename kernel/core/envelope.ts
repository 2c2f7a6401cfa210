/**
 * @module The module ABI envelopes (DESIGN §5): the canonical CBOR input the kernel
 * builds for `step`/`run`, and the strict parse of what a module returns. Module output
 * is untrusted: it must be canonical CBOR of exactly `{state, events, effects, ann}`, its
 * state must conform to the module's state schema and each event to its declared schema.
 */
import { z } from "zod";
import { AirError } from "../../air/errors.js";
import { CborRaw, isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import { conformCbor } from "../../air/values/conform.js";
import { decodeCanonical } from "../../air/cbor/decode.js";
import { encodeCanonical, encodeStored } from "../../air/cbor/encode.js";
import { hashBytes, type HashText } from "../../air/hash.js";
import type { AirCatalog } from "../../air/loader.js";
import type { CellKey } from "./cells.js";

/** The ABI version every envelope carries; bump with any change a module could observe. */
export const ABI_VERSION = 1;

/** The context stamped at ingress and replayed verbatim. */
export interface StepContext {
  now_ns: bigint | number;
  logical_now: number;
  journal_height: number;
  entropy: Uint8Array;
  event_hash: HashText;
  manifest_hash: HashText;
}

/** Builds the canonical input envelope; `stateBytes` is the cell's stored state or null. */
export function stepInput(
  stateBytes: Uint8Array | null,
  event: { schema: string; value: CborValue; key: CellKey },
  ctx: StepContext,
  module: string,
): Uint8Array {
  return encodeCanonical({
    version: ABI_VERSION,
    // Stored states carry the 3-byte self-describe prefix; the envelope embeds the bare item.
    state: stateBytes === null ? null : new CborRaw(stateBytes.subarray(3)),
    event: { schema: event.schema, value: event.value, key: event.key },
    ctx: { ...ctx, module, key: event.key } as unknown as CborObject,
  });
}

const cbor = z.custom<CborValue>(() => true);
const keySchema = z.union([z.null(), z.string(), z.instanceof(Uint8Array)]);
const OutputSchema = z.strictObject({
  state: cbor,
  events: z.array(z.strictObject({ schema: z.string(), value: cbor, key: keySchema })),
  effects: z.array(z.strictObject({ kind: z.string(), params: cbor, cap_slot: z.string() })),
  ann: cbor,
});

/** True when `v` is exactly `{state, events: [], effects: [], ann}` with well-formed items. */
function quickShape(v: CborValue): boolean {
  if (!isCborObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length !== 4 || !("state" in v) || !("ann" in v) || !Array.isArray(v.events) || !Array.isArray(v.effects))
    return false;
  for (const e of v.events) {
    if (
      !isCborObject(e) ||
      Object.keys(e).length !== 3 ||
      typeof e.schema !== "string" ||
      !("value" in e) ||
      !(e.key === null || typeof e.key === "string" || e.key instanceof Uint8Array)
    )
      return false;
  }
  for (const e of v.effects) {
    if (
      !isCborObject(e) ||
      Object.keys(e).length !== 3 ||
      typeof e.kind !== "string" ||
      !("params" in e) ||
      typeof e.cap_slot !== "string"
    )
      return false;
  }
  return true;
}

/** A domain event emitted by a step, canonical against its schema. */
export interface EmittedEvent {
  schema: string;
  value: CborValue;
  key: CellKey;
}

/** An effect intent as the module wrote it (params are checked later, by the gate). */
export interface EmittedEffect {
  kind: string;
  params: CborValue;
  cap_slot: string;
}

/** A validated step output. */
export interface StepOutput {
  /** Stored bytes of the new state, or null when the module deleted the cell. */
  stateBytes: Uint8Array | null;
  stateHash: HashText | null;
  events: EmittedEvent[];
  effects: EmittedEffect[];
  ann: CborValue;
}

/** Step output parse result: typed output, or a failure naming the JSON path. */
export type ParsedOutput = { ok: true; output: StepOutput } | { ok: false; code: string; message: string };

/** Strictly decodes and validates a module's output against its ABI. */
export function parseStepOutput(bytes: Uint8Array, catalog: AirCatalog, module: string): ParsedOutput {
  let raw: CborValue;
  try {
    raw = decodeCanonical(bytes);
  } catch (e) {
    return { ok: false, code: "module.bad_output", message: `output is not canonical CBOR: ${(e as Error).message}` };
  }
  // Fast path for the well-formed common case; zod explains anything else.
  const shape = quickShape(raw)
    ? { success: true as const, data: raw as unknown as z.infer<typeof OutputSchema> }
    : OutputSchema.safeParse(isCborObject(raw) ? raw : { __not_a_map: true });
  if (!shape.success) {
    const i = shape.error.issues[0]!;
    return {
      ok: false,
      code: "module.bad_output",
      message: `output must be {state, events, effects, ann}: ${i.message} at $.${i.path.join(".")}`,
    };
  }
  const def = catalog.modules.get(module)!.def;
  const stateSchema = catalog.schemas.get(def.abi.workflow!.state)!;
  try {
    const out = shape.data;
    let stateBytes: Uint8Array | null = null;
    if (out.state !== null) stateBytes = encodeStored(conformCbor(stateSchema.expanded, out.state, ["state"]));
    const events = out.events.map((e, i) => {
      const s = catalog.schemas.get(e.schema);
      if (!s) throw new AirError("air.unknown_ref", `emits undeclared schema ${e.schema}`, `$.events[${i}].schema`);
      return { schema: e.schema, value: conformCbor(s.expanded, e.value, ["events", i, "value"]), key: e.key };
    });
    return {
      ok: true,
      output: {
        stateBytes,
        stateHash: stateBytes ? hashBytes(stateBytes) : null,
        events,
        effects: out.effects,
        ann: out.ann,
      },
    };
  } catch (e) {
    return { ok: false, code: "module.bad_output", message: (e as Error).message };
  }
}

/** Builds the canonical input envelope of a pure module's `run`: `{version, input, ctx}`. */
export function pureInput(input: CborValue, ctx: StepContext & { module: string; key: CellKey }): Uint8Array {
  return encodeCanonical({ version: ABI_VERSION, input, ctx: ctx as unknown as CborObject });
}

/** A pure module's validated output: its stored bytes and hash. */
export type ParsedPureOutput =
  { ok: true; bytes: Uint8Array; hash: HashText } | { ok: false; code: string; message: string };

/** Strictly decodes a pure module's output, exactly `{output}`, and conforms `output` to the schema `outputSchema` names. */
export function parsePureOutput(bytes: Uint8Array, catalog: AirCatalog, outputSchema: string): ParsedPureOutput {
  let raw: CborValue;
  try {
    raw = decodeCanonical(bytes);
  } catch (e) {
    return { ok: false, code: "module.bad_output", message: `output is not canonical CBOR: ${(e as Error).message}` };
  }
  if (!isCborObject(raw) || Object.keys(raw).length !== 1 || !("output" in raw))
    return { ok: false, code: "module.bad_output", message: "output must be exactly {output}" };
  try {
    const stored = encodeStored(conformCbor(catalog.schemas.get(outputSchema)!.expanded, raw.output!, ["output"]));
    return { ok: true, bytes: stored, hash: hashBytes(stored) };
  } catch (e) {
    return { ok: false, code: "module.bad_output", message: (e as Error).message };
  }
}
