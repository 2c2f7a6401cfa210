/**
 * @module Reads a world's AIR folder (`*.air.json`, each a def or an array of defs, in any
 * subfolder) and hands the parsed sources to the pure loader. JSON syntax errors become
 * issues naming the file, so `wk air check` reports everything at once.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { AirError, jsonPath, type AirIssue } from "../air/errors.js";
import { buildCatalog, type LoadResult } from "../air/loader.js";
import { hashBytes, type HashText } from "../air/hash.js";
import { parseJsonLossless } from "../air/json.js";

/** A loaded AIR folder plus the module binaries its defmodules point at (by wasm hash). */
export type AirDirResult = LoadResult & { wasm: Map<HashText, Uint8Array> };

/** Every `*.air.json` file under `dir`, sorted for a stable order. */
export function listAirFiles(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new AirError("air.io_error", `AIR folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new AirError("air.io_error", `${dir} is not a folder`);
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (name === "node_modules" || name.startsWith(".")) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".air.json")) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The nearest folder at or above `dir` holding a package.json: module paths stay inside it. */
function projectRoot(dir: string): string {
  let d = resolve(dir);
  while (!existsSync(join(d, "package.json"))) {
    const up = dirname(d);
    if (up === d) return resolve(dir);
    d = up;
  }
  return d;
}

/**
 * Authoring sugar: a defmodule may say `"wasm": "<path to .wasm>"` instead of a wasm_hash.
 * The file is read (confined to the project), hashed, and the def gets its `wasm_hash`.
 */
function resolveWasmPaths(
  value: unknown,
  file: string,
  airDir: string,
  wasm: Map<HashText, Uint8Array>,
  issues: AirIssue[],
): unknown {
  const items = Array.isArray(value) ? value : [value];
  const root = projectRoot(airDir);
  const out = items.map((d, i) => {
    if (typeof d !== "object" || d === null || (d as { $kind?: unknown }).$kind !== "defmodule" || !("wasm" in d))
      return d;
    const { wasm: rel, ...rest } = d as Record<string, unknown>;
    const at = jsonPath(Array.isArray(value) ? [i, "wasm"] : ["wasm"]);
    if (typeof rel !== "string") {
      issues.push({ code: "air.schema_violation", message: "wasm must be a path to a .wasm file", path: at, file });
      return rest;
    }
    const abs = resolve(dirname(join(airDir, file)), rel);
    if (abs !== root && !abs.startsWith(root + sep)) {
      issues.push({
        code: "air.io_error",
        message: `wasm path ${rel} leaves the project folder ${root}`,
        path: at,
        file,
      });
      return rest;
    }
    try {
      const bytes = new Uint8Array(readFileSync(abs));
      const h = hashBytes(bytes);
      wasm.set(h, bytes);
      return { ...rest, wasm_hash: h };
    } catch {
      issues.push({
        code: "air.io_error",
        message: `cannot read module binary ${rel} (build it with npm run build)`,
        path: at,
        file,
      });
      return rest;
    }
  });
  return Array.isArray(value) ? out : out[0];
}

/** Resolves the `"wasm": "<path>"` sugar of the defmodule(s) in one parsed AIR file; throws the first problem. */
export function resolveWasmSugar(value: unknown, filePath: string): unknown {
  const issues: AirIssue[] = [];
  const out = resolveWasmPaths(value, basename(filePath), dirname(resolve(filePath)), new Map(), issues);
  if (issues.length) throw new AirError(issues[0]!.code, issues[0]!.message, issues[0]!.path, issues);
  return out;
}

/** Loads and resolves an AIR folder; syntax and semantic issues come back together. */
export function loadAirDir(dir: string): AirDirResult {
  const wasm = new Map<HashText, Uint8Array>();
  const issues: AirIssue[] = [];
  const sources: { file: string; value: unknown }[] = [];
  for (const file of listAirFiles(dir)) {
    const name = relative(dir, file);
    try {
      const value = parseJsonLossless(new Uint8Array(readFileSync(file)), name);
      sources.push({ file: name, value: resolveWasmPaths(value, name, dir, wasm, issues) });
    } catch (e) {
      const err = e as AirError;
      issues.push({ code: err.code ?? "air.invalid_json", message: err.message, path: "$", file: name });
    }
  }
  if (sources.length === 0 && issues.length === 0)
    issues.push({ code: "air.io_error", message: `no *.air.json files in ${dir}`, path: "$" });
  const r = buildCatalog(sources);
  if (!r.ok) return { ok: false, issues: [...issues, ...r.issues], wasm };
  return issues.length ? { ok: false, issues, wasm } : { ...r, wasm };
}
