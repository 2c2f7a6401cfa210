/**
 * @module Worker-thread body of the in-process AssemblyScript build. Plain JavaScript on
 * purpose: it is started with no loader (execArgv []) because tsx re-transforms
 * binaryen's 15 MB bundle on every import (~8 s); plain Node loads it in ~0.4 s.
 * Protocol: {id, argv, entry, text, files:{entryDir, realDir, readable[], root, pdkDir}} → {id, wasm?, error?, diagnostics[]}.
 */
import { parentPort } from "node:worker_threads";
import { readFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const ascReady = import("assemblyscript/asc");
const PDK = "node_modules/@extism/as-pdk/";

parentPort.on("message", async (req) => {
  const { id, argv, entry, text, files } = req;
  const texts = new Map([[entry, text]]);
  const diagnostics = [];
  let wasm;
  const rel = (abs) => relative(files.root, abs).split(sep).join("/");
  // asc asks for paths relative to its baseDir ("."): the package root, never the process's cwd.
  const readFile = (filename, baseDir) => {
    const path = rel(resolve(files.root, baseDir, filename));
    if (path === entry) return text;
    let abs;
    if (files.realDir && path.startsWith(`${files.entryDir}/`))
      abs = join(files.realDir, path.slice(files.entryDir.length + 1));
    // @extism/as-pdk is wherever npm put it (beside worldkernel when it is a dependency).
    else if (path.startsWith(PDK)) abs = join(files.pdkDir, path.slice(PDK.length));
    else if (files.readable.some((p) => path.startsWith(p))) abs = join(files.root, path);
    if (abs === undefined) return null;
    try {
      const found = readFileSync(abs, "utf8");
      texts.set(path, found);
      return found;
    } catch {
      return null;
    }
  };
  const locate = (path, offset) => {
    const t = texts.get(path);
    if (t === undefined) return path;
    const before = t.slice(0, offset);
    return `${path}:${before.split("\n").length}:${offset - before.lastIndexOf("\n")}`;
  };
  const sink = () => ({ write() {}, toString: () => "" });
  try {
    const { main } = await ascReady;
    const result = await main(argv, {
      readFile,
      writeFile: (name, contents) => {
        if (name.endsWith(".wasm") && typeof contents !== "string") wasm = new Uint8Array(contents);
      },
      listFiles: () => [],
      stdout: sink(),
      stderr: sink(),
      reportDiagnostic: (d) => {
        const where = d.range ? locate(d.range.source.normalizedPath, d.range.start) : "";
        const cat = ["info", "info", "warning", "error"][d.category] ?? "error";
        diagnostics.push(`${where}${where ? ": " : ""}${cat} AS${d.code}: ${d.message}`);
      },
    });
    const error = result.error ? result.error.message : undefined;
    parentPort.postMessage({ id, wasm: error ? undefined : wasm, error, diagnostics });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message ? e.message : e), diagnostics });
  }
});
