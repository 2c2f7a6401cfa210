/**
 * blob.put / blob.get with namespace grants, and timer.set waiting on the real clock.
 */
import { describe, expect, it } from "vitest";
import { hashBytes, hashToBytes, type CborValue } from "../../air/index.js";
import {
  GRANT_CHECKS,
  createBlobAdapter,
  createDefaultAdapters,
  createTimerAdapter,
} from "../../kernel/adapters/index.js";
import { MemoryBlobs, errorCode, request, wallNs } from "./harness.js";

describe("blob.put / blob.get", () => {
  const adapter = createBlobAdapter({ maxBytes: 1024 });
  const grant = { namespaces: ["notes"] };

  it("puts and gets bytes in an allowed namespace", async () => {
    const blobs = new MemoryBlobs();
    const bytes = new TextEncoder().encode("hello blob");
    const put = await adapter.perform(request("blob.put", { namespace: "notes", bytes }, grant, { blobs }));
    expect(put.status).toBe("ok");
    expect(put.payload).toEqual({ blob_ref: hashToBytes(hashBytes(bytes)), size: bytes.length });
    const got = await adapter.perform(
      request("blob.get", { namespace: "notes", blob_ref: hashToBytes(hashBytes(bytes)) }, grant, { blobs }),
    );
    expect(got.payload).toEqual({ blob_ref: hashToBytes(hashBytes(bytes)), size: bytes.length, bytes });
  });

  it("refuses a namespace outside the grant, a missing blob and an oversized blob", async () => {
    expect(
      errorCode(
        (await adapter.perform(request("blob.put", { namespace: "secrets", bytes: new Uint8Array(1) }, grant))).payload,
      ),
    ).toBe("namespace_not_allowed");
    expect(
      errorCode(
        (
          await adapter.perform(
            request("blob.get", { namespace: "notes", blob_ref: `sha256:${"00".repeat(32)}` }, grant),
          )
        ).payload,
      ),
    ).toBe("blob_not_found");
    expect(
      errorCode(
        (await adapter.perform(request("blob.put", { namespace: "notes", bytes: new Uint8Array(2048) }, null))).payload,
      ),
    ).toBe("blob_too_large");
  });
});

describe("timer.set", () => {
  const timer = createTimerAdapter();

  it("delivers no earlier than deliver_at_ns", async () => {
    const at = wallNs() + 30_000_000n;
    const out = await timer.perform(request("timer.set", { deliver_at_ns: at, key: "t1" }));
    expect(out.status).toBe("ok");
    const p = out.payload as Record<string, CborValue>;
    expect((p.delivered_at_ns as bigint) >= at).toBe(true);
    expect(p.key).toBe("t1");
  });

  it("delivers at once when the time has passed, and honours the abort signal", async () => {
    expect((await timer.perform(request("timer.set", { deliver_at_ns: 1, key: null }))).status).toBe("ok");
    const ac = new AbortController();
    const p = timer.perform(
      request("timer.set", { deliver_at_ns: wallNs() + 60_000_000_000n, key: "late" }, null, { signal: ac.signal }),
    );
    ac.abort();
    const out = await p;
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("aborted");
  });

  it("a malformed field is an invalid_params error naming it, never a throw", async () => {
    const out = await timer.perform(request("timer.set", { deliver_at_ns: "soon", key: null }));
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("invalid_params");
    expect(JSON.stringify(out.payload)).toMatch(/deliver_at_ns/);
  });
});

describe("registry", () => {
  it("maps every built-in kind to its adapter", () => {
    const m = createDefaultAdapters();
    expect([...m.keys()].sort()).toEqual([
      "blob.get",
      "blob.put",
      "compile.module",
      "http.request",
      "llm.generate",
      "mcp.call",
      "timer.set",
    ]);
  });
});

describe("GRANT_CHECKS (what the gate injects)", () => {
  it("checks each built-in cap type without I/O", () => {
    expect(
      GRANT_CHECKS["http.out"]!(
        "http.request",
        { method: "GET", url: "https://x.example.com/", headers: {}, body_ref: null },
        { hosts: ["api.example.com"] },
      )?.code,
    ).toBe("host_not_allowed");
    expect(
      GRANT_CHECKS["llm.basic"]!(
        "llm.generate",
        { provider: "local", model: "m", messages_ref: new Uint8Array(32), max_tokens: 9, temperature: null },
        { max_tokens: 8 },
      )?.code,
    ).toBe("max_tokens_exceeded");
    expect(
      GRANT_CHECKS.blob!("blob.get", { namespace: "a", blob_ref: new Uint8Array(32) }, { namespaces: ["b"] })?.code,
    ).toBe("namespace_not_allowed");
    expect(
      GRANT_CHECKS.compile!("compile.module", { language: "c", source_ref: new Uint8Array(32) }, { languages: ["wat"] })
        ?.code,
    ).toBe("language_not_allowed");
    expect(
      GRANT_CHECKS.compile!("compile.module", { language: "wat", source_ref: new Uint8Array(32) }, null),
    ).toBeNull();
  });
});
