/**
 * @module Adapter key rotation: `wk keys rotate-adapter` writes a new 0600 key and a `keys`
 * entry signed by the world key; the world verifies, the new key is the only declared one,
 * and putting the old key file back is refused when the world opens.
 */
import { copyFileSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const wk = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "tools/cli/main.ts"), ...args], { encoding: "utf8" });

describe("adapter key rotation", () => {
  it("rotates, verifies, and refuses the retired key file", () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-rotate-")), "w");
    expect(wk("create", join(ROOT, "worlds/counter"), "--world", w).status).toBe(0);
    const r = wk("keys", "rotate-adapter", "--world", w, "--json");
    expect(r.status, r.stderr).toBe(0);
    const { seq, adapter_public_key } = JSON.parse(r.stdout) as { seq: number; adapter_public_key: string };
    expect(statSync(join(w, "keys", "adapter.key")).mode & 0o777).toBe(0o600);
    const entry = (
      JSON.parse(wk("log", "--world", w, "--kind", "keys", "--json").stdout) as {
        seq: number;
        body: { adapter_keys: { public_key: string }[] };
      }[]
    )[0]!;
    expect(entry.seq).toBe(seq);
    expect(entry.body.adapter_keys.map((k) => k.public_key)).toEqual([adapter_public_key]);
    expect(wk("send", "demo/CounterEvent@1", '{"key":"a","by":1}', "--world", w).status).toBe(0);
    expect(JSON.parse(wk("verify", "--world", w, "--json").stdout)).toMatchObject({ ok: true });
    copyFileSync(join(w, "keys", `adapter.key.${seq}.old`), join(w, "keys", "adapter.key"));
    const refused = wk("send", "demo/CounterEvent@1", '{"key":"a","by":1}', "--world", w);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("kernel.undeclared_key");
  }, 60_000);
});
