/**
 * `wk receipt verify` as a commander command group (registered on a fresh program, since
 * the lead wires it into tools/cli/main.ts): exit codes 0 / 1 / 2 and the --json verdict.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerReceipt } from "../../tools/cli/commands/receipt.js";

const bundle = readFileSync(new URL("../vectors/receipt-bundle-v2.json", import.meta.url), "utf8");
const dir = mkdtempSync(join(tmpdir(), "wk-cli-receipt-"));
writeFileSync(join(dir, "good.json"), bundle);
const bad = JSON.parse(bundle) as { checkpoint: { root: string } };
bad.checkpoint.root = "00".repeat(32);
writeFileSync(join(dir, "bad.json"), JSON.stringify(bad));

async function wk(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const program = new Command("wk").exitOverride();
  registerReceipt(program);
  try {
    await program.parseAsync(["node", "wk", ...args]);
    return { code: 0, out };
  } catch (e) {
    return { code: (e as { exitCode?: number }).exitCode ?? -1, out: out + ((e as Error).message ?? "") };
  } finally {
    spy.mockRestore();
  }
}
afterEach(() => vi.restoreAllMocks());

describe("wk receipt verify", () => {
  it("exits 0 with a JSON verdict for a valid bundle", async () => {
    const r = await wk("receipt", "verify", join(dir, "good.json"), "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, world_id: "world-test" });
  });
  it("exits 1 naming the fault for a tampered bundle", async () => {
    const r = await wk("receipt", "verify", join(dir, "bad.json"));
    expect(r.code).toBe(1);
    expect(r.out).toContain("INVALID bad_inclusion_proof");
  });
  it("exits 1 on a world key mismatch or a missing file (bad input), 2 on a malformed --world-key (usage)", async () => {
    expect((await wk("receipt", "verify", join(dir, "good.json"), "--world-key", "ab".repeat(32))).code).toBe(1);
    expect((await wk("receipt", "verify", join(dir, "good.json"), "--world-key", "xyz")).code).toBe(2);
    expect((await wk("receipt", "verify", join(dir, "missing.json"))).code).toBe(1);
  });
});
