/**
 * @module The built-in `sys/*` defs that ship with worldkernel: effect param/receipt schemas,
 * effects and capability types (http.out, llm.basic, blob, timer, query, compile,
 * governance, log, mcp). Manifests may reference them without defining them; a manifest's
 * hash covers only the ones it uses, so adding one changes no existing world.
 */
import schemas from "./schemas.air.json" with { type: "json" };
import effects from "./effects.air.json" with { type: "json" };
import caps from "./caps.air.json" with { type: "json" };

/** Built-in def sources, in the same `{file, value}` shape the loader takes. */
export const BUILTIN_SOURCES: readonly { file: string; value: unknown }[] = [
  { file: "<builtin>/schemas.air.json", value: schemas },
  { file: "<builtin>/effects.air.json", value: effects },
  { file: "<builtin>/caps.air.json", value: caps },
];
