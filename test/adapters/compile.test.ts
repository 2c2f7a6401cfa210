/**
 * compile.module over the real builder: WAT and AssemblyScript sources from the CAS to a
 * wasm blob, compile errors as `error` receipts with diagnostics, and language grants.
 */
import { describe, expect, it } from "vitest";
import { hashToBytes, type CborValue } from "../../air/index.js";
import { createCompileAdapter } from "../../kernel/adapters/index.js";
import { MemoryBlobs, errorCode, ref as payloadRef, request } from "./harness.js";

const adapter = createCompileAdapter();

function compile(language: string, source: string, grant: CborValue = null) {
  const blobs = new MemoryBlobs();
  const ref = blobs.put(new TextEncoder().encode(source));
  return { req: request("compile.module", { language, source_ref: ref }, grant, { blobs }), ref };
}

describe("compile.module", () => {
  it("compiles WAT to a wasm blob and records compiler, version and hashes", async () => {
    const { req, ref } = compile(
      "wat",
      `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`,
    );
    const out = await adapter.perform(req);
    expect(out.status).toBe("ok");
    const p = out.payload as Record<string, CborValue>;
    expect(p.source_ref).toEqual(hashToBytes(ref));
    expect(typeof p.compiler).toBe("string");
    expect(typeof p.compiler_version).toBe("string");
    expect(Array.isArray(p.diagnostics)).toBe(true);
    const wasm = req.blobs.get(payloadRef(p, "wasm_ref"));
    expect([...wasm.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
    const inst = await WebAssembly.instantiate(wasm);
    expect((inst.instance.exports.add as (a: number, b: number) => number)(2, 3)).toBe(5);
  });

  it("compiles AssemblyScript", async () => {
    const { req } = compile("assemblyscript", `export function twice(x: i32): i32 { return x * 2; }`);
    const out = await adapter.perform(req);
    expect(out.status, JSON.stringify(out.payload)).toBe("ok");
    expect(WebAssembly.validate(req.blobs.get(payloadRef(out.payload, "wasm_ref")))).toBe(true);
  }, 30_000);

  it("reports a compile error as status error with diagnostics and no wasm", async () => {
    const { req } = compile("wat", `(module (func (export "f") (result i32) i32.bogus))`);
    const out = await adapter.perform(req);
    expect(out.status).toBe("error");
    const p = out.payload as Record<string, CborValue>;
    expect(p.code).toBe("compile_failed");
    expect((p.diagnostics as string[]).length).toBeGreaterThan(0);
    expect(p.wasm_ref).toBeNull();
  });

  it("refuses unknown languages, languages outside the grant and missing sources", async () => {
    expect(errorCode((await adapter.perform(compile("cobol", "x").req)).payload)).toBe("unsupported_language");
    expect(errorCode((await adapter.perform(compile("c", "int x;", { languages: ["wat"] }).req)).payload)).toBe(
      "language_not_allowed",
    );
    const missing = request("compile.module", { language: "wat", source_ref: `sha256:${"00".repeat(32)}` });
    expect(errorCode((await adapter.perform(missing)).payload)).toBe("blob_not_found");
  });

  it("a malformed source_ref is an invalid_params error naming it, never a throw", async () => {
    const out = await adapter.perform(request("compile.module", { language: "wat", source_ref: 42 }));
    expect(errorCode(out.payload)).toBe("invalid_params");
    expect(JSON.stringify(out.payload)).toMatch(/source_ref/);
  });
});
