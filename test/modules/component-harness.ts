/**
 * @module Runs a worldkernel JS component in tests: jco transpiles it (async
 * instantiation, imports passed in), and the host interface is bound to plain functions.
 * Independent of kernel/wasm so the module tests do not depend on the runtime under work.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { transpile } from "@bytecodealliance/jco";

type Bytes = (input: Uint8Array) => Uint8Array;

/** The component's exports after instantiation. */
export interface ComponentExports {
  step: Bytes;
  run: Bytes;
}

/** Transpiles and instantiates a component; `host` implements worldkernel:module/host. */
export async function instantiateComponent(wasm: Uint8Array, host: Partial<Record<"log" | "blobGet" | "manifestGet" | "journalHead", Bytes>> = {}): Promise<{ exports: ComponentExports; imports: string[]; close: () => Promise<void> }> {
  const { files, imports } = await transpile(wasm, { name: "module", instantiation: "async", noTypescript: true });
  const dir = await mkdtemp(join(tmpdir(), "wk-component-"));
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith(".d.ts")) continue;
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
  }
  const mod = (await import(pathToFileURL(join(dir, "module.js")).href)) as {
    instantiate: (getCore: (name: string) => Promise<WebAssembly.Module>, imports: Record<string, unknown>) => Promise<ComponentExports>;
  };
  const unused: Bytes = () => {
    throw new Error("host call not granted in this test");
  };
  const exports = await mod.instantiate(
    async (name) => WebAssembly.compile(files[name] as Uint8Array),
    {
      "worldkernel:module/host": {
        log: host.log ?? unused,
        blobGet: host.blobGet ?? unused,
        manifestGet: host.manifestGet ?? unused,
        journalHead: host.journalHead ?? unused,
      },
    },
  );
  return { exports, imports, close: () => rm(dir, { recursive: true, force: true }) };
}
