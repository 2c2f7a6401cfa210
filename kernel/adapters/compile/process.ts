/**
 * @module Runs an external compiler (clang, zig) with a timeout and captured output;
 * a missing binary is a typed `compile.toolchain_missing` error, not a diagnostic. Builds
 * happen in a scratch directory laid out the same for every such toolchain.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CompileError } from "./errors.js";
import type { BuildResult, CompilerId } from "./types.js";

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` in `cwd`; rejects only when the binary cannot be started. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<ProcessResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT")
        reject(new CompileError("compile.toolchain_missing", `${cmd} is not installed (${e.message})`, { tool: cmd }));
      else reject(e);
    });
    child.on("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Splits compiler output into non-empty diagnostic lines, with temp paths replaced. */
export function diagnosticLines(text: string, replace: [string, string][]): string[] {
  let t = text;
  for (const [from, to] of replace) t = t.split(from).join(to);
  return t
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
}

/** One source file for an outside toolchain, and the SDK files it builds against. */
export interface ScratchBuild {
  /** Names the scratch directory (`wk-<language>-…`) and the source file when no path is given (`module.<ext>`). */
  language: string;
  ext: string;
  source: Uint8Array | string;
  sourcePath: string | undefined;
  /** SDK files copied into `sdk/` under their own names. */
  sdk: string[];
  compiler: CompilerId;
  /** Runs the toolchain in the directory on `src/<name>`; it writes `out.wasm` there. */
  invoke: (dir: string, name: string) => Promise<ProcessResult>;
}

/**
 * Builds in a fresh scratch directory (`src/<name>`, `sdk/…`), maps its paths out of the
 * diagnostics (the source shows as the caller's path) and reads `out.wasm` back.
 */
export async function buildInScratch(b: ScratchBuild): Promise<BuildResult> {
  const name = b.sourcePath === undefined ? `module.${b.ext}` : basename(b.sourcePath);
  const dir = await mkdtemp(join(tmpdir(), `wk-${b.language}-`));
  try {
    await mkdir(join(dir, "src"));
    await mkdir(join(dir, "sdk"));
    await writeFile(join(dir, "src", name), b.source);
    for (const f of b.sdk) await copyFile(f, join(dir, "sdk", basename(f)));
    const r = await b.invoke(dir, name);
    const diagnostics = diagnosticLines(r.stderr, [
      [`src/${name}`, b.sourcePath ?? name],
      [dir + "/", ""],
    ]);
    if (r.code !== 0) return { ok: false, compiler: b.compiler, diagnostics };
    return { ok: true, wasm: new Uint8Array(await readFile(join(dir, "out.wasm"))), compiler: b.compiler, diagnostics };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
