/**
 * @module AssemblyScript → Extism plugin in-process through `assemblyscript/asc`'s API,
 * with an in-memory file system: the entry source is served from memory at
 * `modules/assemblyscript/<dir>/<name>.ts` (so `import … from "../sdk/index"` finds the
 * worldkernel SDK), reads are confined to the AssemblyScript SDK, @extism/as-pdk and the
 * source's own folder, and the output is caught by writeFile. Backs `compile.module`.
 * The compiler runs on a worker thread (see asc-worker.mjs for why); one worker is kept
 * and reused, unref'd so it never holds the process open.
 */
import { Worker } from "node:worker_threads";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { installedPackage, installedVersion } from "../../packages.js";
import { requireToolchain } from "./errors.js";
import { PACKAGE_ROOT } from "./paths.js";
import { sourceText } from "./types.js";
import type { BuildResult, CompilerId } from "./types.js";

/** Flags every AssemblyScript module is built with; part of the build's identity. */
export const ASC_FLAGS = ["-O3", "--runtime", "incremental", "--initialMemory", "4", "--noColors"] as const;
const SDK_ABORT = "modules/assemblyscript/sdk/abort/wkAbort";
const VIRTUAL_DIR = "modules/assemblyscript/.source";
const READABLE = ["modules/assemblyscript/"];

interface Reply {
  id: number;
  wasm?: Uint8Array;
  error?: string;
  diagnostics: string[];
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, (r: Reply) => void>();

function ascWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./asc-worker.mjs", import.meta.url), { execArgv: [] });
  w.unref();
  w.on("message", (r: Reply) => {
    pending.get(r.id)?.(r);
    pending.delete(r.id);
  });
  const fail = (e: unknown) => {
    for (const [id, done] of pending) done({ id, error: `assemblyscript worker: ${String(e)}`, diagnostics: [] });
    pending.clear();
    worker = undefined;
  };
  w.on("error", fail);
  w.on("exit", (code) => fail(`exited with code ${code}`));
  worker = w;
  return w;
}

/** The compiler identity recorded in receipts. */
export function ascCompiler(): CompilerId {
  return { name: "assemblyscript", version: installedVersion("assemblyscript") };
}

/** Repo-relative, '/'-separated form of an absolute path. */
function rel(abs: string): string {
  return relative(PACKAGE_ROOT, abs).split(sep).join("/");
}

/** Compiles one AssemblyScript entry file; compile errors are diagnostics (`file:line:col`). */
export async function buildAssemblyScript(source: Uint8Array | string, sourcePath?: string): Promise<BuildResult> {
  requireToolchain("assemblyscript", ["assemblyscript", "@extism/as-pdk"]);
  const compiler = ascCompiler();
  const text = sourceText(source);
  // Inside the repo the entry keeps its real path; outside, it is mounted in a virtual folder
  // beside the SDK and its siblings are read from its real folder.
  const realDir = sourcePath === undefined ? undefined : dirname(resolve(sourcePath));
  const insideRepo = realDir !== undefined && !rel(realDir).startsWith("..");
  const entryDir = insideRepo ? rel(realDir) : VIRTUAL_DIR;
  const entry = `${entryDir}/${sourcePath === undefined ? "module.ts" : basename(sourcePath)}`;
  const usesSdk = /from\s+["'][^"']*sdk(\/index)?["']/.test(text);
  const argv = [entry, "--outFile", "out.wasm", ...ASC_FLAGS, "--use", `abort=${usesSdk ? SDK_ABORT : ""}`];
  const id = nextId++;
  const reply = await new Promise<Reply>((done) => {
    pending.set(id, done);
    const w = ascWorker();
    w.ref();
    w.postMessage({
      id,
      argv,
      entry,
      text,
      files: {
        entryDir,
        realDir,
        readable: READABLE,
        root: PACKAGE_ROOT,
        pdkDir: dirname(installedPackage("@extism/as-pdk")!.file),
      },
    });
  });
  if (pending.size === 0) worker?.unref();
  if (reply.error !== undefined || reply.wasm === undefined) {
    const diagnostics = reply.diagnostics.length > 0 ? reply.diagnostics : [reply.error ?? "no output"];
    return { ok: false, compiler, diagnostics };
  }
  return { ok: true, wasm: new Uint8Array(reply.wasm), compiler, diagnostics: reply.diagnostics };
}
