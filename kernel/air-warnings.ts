/**
 * @module The warnings of a loaded AIR folder or world source: the pure catalog checks of
 * air/warnings.ts, fed with the initial memory each module binary declares (read from its
 * bytes by kernel/wasm/memory-pages.ts, without compiling it).
 */
import { governanceWarnings, memoryWarnings, type AirWarning } from "../air/warnings.js";
import type { AirCatalog } from "../air/loader.js";
import type { HashText } from "../air/hash.js";
import { initialMemoryPages } from "./wasm/memory-pages.js";
import { DEFAULT_LIMITS } from "./world/modules.js";

export type { AirWarning, AirWarningCode } from "../air/warnings.js";

/** Every warning about `catalog` with the module binaries it names (`wasm`, by hash). */
export function catalogWarnings(catalog: AirCatalog, wasm: ReadonlyMap<HashText, Uint8Array>): AirWarning[] {
  const initial = (hash: string) => {
    const bytes = wasm.get(hash as HashText);
    if (bytes === undefined) return null;
    let m;
    try {
      m = initialMemoryPages(bytes);
    } catch {
      return null; // not readable as WASM: loading it reports the real problem
    }
    if (m === null) return null;
    const where =
      m.binary === "core"
        ? `its ${m.at.source === "memory" ? "memory section" : "memory import"}`
        : `core module ${m.at.coreModule} of ${m.coreModules} in the component, ${m.at.source === "memory" ? "memory section" : "memory import"}`;
    return { pages: m.pages, where };
  };
  return [...governanceWarnings(catalog), ...memoryWarnings(catalog, initial, DEFAULT_LIMITS.memoryPages)];
}

/** Renders a warning for stderr: `warning: <code>: <message>` (with its file and path when known). */
export function warningLine(w: AirWarning): string {
  const where = w.file ? `${w.file} ${w.path}` : w.path;
  return `warning: ${w.code}: ${w.message} (at ${where})`;
}
