/**
 * @module Warnings about a valid catalog: nothing is wrong with the definitions as data, but
 * the world they make will disappoint — it can never be upgraded (no approvers, or fewer
 * than the threshold), or a module cannot load (its memory ceiling is below the initial
 * memory its binary asks for). Pure: the caller reads the binaries and passes in what
 * each declares (see kernel/air-warnings.ts).
 */
import type { AirCatalog } from "./loader.js";

/** Stable codes of the warnings. */
export type AirWarningCode = "air.no_approvers" | "air.threshold_unreachable" | "air.memory_below_initial";

/** One warning: what, why, and where to fix it (file and JSON path of the def, when known). */
export interface AirWarning {
  code: AirWarningCode;
  message: string;
  path: string;
  file?: string;
}

const at = (defPath: string, rest: string): string => (defPath === "$" ? `$${rest}` : `${defPath}${rest}`);

/**
 * Governance reads approvers and threshold from the manifest's default policy only (see
 * kernel/world/governance-rules.ts): without approvers there, no proposal can ever be
 * approved, so the world's definitions are fixed for good.
 */
export function governanceWarnings(catalog: AirCatalog): AirWarning[] {
  const name = catalog.manifest.defaults?.policy;
  const fix = "name approvers (id and ed25519 public key) in the manifest's default policy";
  if (name === undefined) {
    const elsewhere = [...catalog.policies.values()]
      .filter((p) => (p.def.approvers ?? []).length > 0)
      .map((p) => p.def.name);
    const note = elsewhere.length
      ? ` (${elsewhere.join(", ")} names approvers, but governance reads only the default policy)`
      : "";
    return [
      {
        code: "air.no_approvers",
        message: `the manifest names no default policy, so no policy names approvers${note}: no proposal can ever be approved and this world can never be upgraded; ${fix}`,
        path: "$.defaults.policy",
      },
    ];
  }
  const p = catalog.policies.get(name);
  if (!p) return [];
  const approvers = p.def.approvers ?? [];
  const threshold = p.def.threshold ?? 1;
  const where = { path: at(p.path, ".approvers"), ...(p.file ? { file: p.file } : {}) };
  if (approvers.length === 0) {
    return [
      {
        code: "air.no_approvers",
        message: `the default policy ${name} names no approvers: no proposal can ever be approved and this world can never be upgraded; ${fix}`,
        ...where,
      },
    ];
  }
  const distinct = new Set(approvers.map((a) => a.public_key)).size;
  if (threshold > distinct) {
    return [
      {
        code: "air.threshold_unreachable",
        message: `the default policy ${name} needs ${threshold} approvals but names ${distinct} distinct approver key(s): no proposal can ever be approved and this world can never be upgraded`,
        path: at(p.path, ".threshold"),
        ...(p.file ? { file: p.file } : {}),
      },
    ];
  }
  return [];
}

/**
 * The same check on the catalog a patch would produce (`wk propose`, `wk shadow`): a patch that
 * drops the default policy or its approvers, or raises the threshold past them, compiles — and is
 * the last upgrade the world takes. Same codes, said of the patch; the patched catalog has no
 * files, so a warning is located in the def it names (the manifest, or the default policy).
 */
export function patchGovernanceWarnings(next: AirCatalog): AirWarning[] {
  return governanceWarnings(next).map((w) => ({
    code: w.code,
    message: `after this patch, ${w.message}`,
    path: w.path.replace(/^\$\[\d+\]/, "$"),
  }));
}

/** What one module's binary declares: its largest initial memory in pages (null: none, or unreadable). */
export type InitialPages = (wasmHash: string) => { pages: number; where: string } | null;

/**
 * A module whose memory ceiling (`limits.memory_pages`, else the kernel's default) is below
 * the initial memory its binary declares fails to load at its first step.
 */
export function memoryWarnings(catalog: AirCatalog, initial: InitialPages, defaultPages: number): AirWarning[] {
  const out: AirWarning[] = [];
  for (const [name, m] of catalog.modules) {
    const declared = m.def.limits?.memory_pages;
    const ceiling = declared ?? defaultPages;
    const init = initial(m.def.wasm_hash);
    if (init === null || init.pages <= ceiling) continue;
    const limit =
      declared === undefined
        ? `declares no limits.memory_pages, so the kernel's default ceiling of ${defaultPages} pages applies`
        : `limits.memory_pages is ${declared}`;
    out.push({
      code: "air.memory_below_initial",
      message: `module ${name}: ${limit}, but its binary starts with ${init.pages} pages of memory (${init.where}): it cannot load (module.limits_exceeded at its first step); set limits.memory_pages to at least ${init.pages}`,
      path: at(m.path, declared === undefined ? ".limits" : ".limits.memory_pages"),
      ...(m.file ? { file: m.file } : {}),
    });
  }
  return out;
}
