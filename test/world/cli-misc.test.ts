/**
 * @module Small CLI habits: `wk --version` prints the package version; a reader that closes
 * the pipe early (`wk log --json | head`) ends `wk` quietly with exit 0, no EPIPE stack trace.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "tools/cli/main.ts");

describe("wk habits", () => {
  it("--version prints the package version", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", CLI, "--version"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    );
  });

  it("--json where it reports: air hash, and verify of a missing world (still JSON, exit 1)", () => {
    const run = (...a: string[]) => spawnSync(process.execPath, ["--import", "tsx", CLI, ...a], { encoding: "utf8" });
    const h = run("air", "hash", join(ROOT, "worlds/counter/counter.air.json"), "--def", "--json");
    expect(h.status).toBe(0);
    expect(JSON.parse(h.stdout)).toMatchObject({
      def: true,
      hash: run("air", "hash", join(ROOT, "worlds/counter/counter.air.json"), "--def").stdout.trim(),
    });
    const v = run("verify", "--world", join(tmpdir(), "wk-no-such-world"), "--json");
    expect(v.status).toBe(1);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: false, fault: "not_found" });
  });

  it("a closed pipe ends wk log quietly", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "wk-pipe-")), "w");
    const w = await createWorld(dir, sourceFromAirDir(join(ROOT, "worlds/counter")), { synchronous: "NORMAL" });
    await w.sendMany(
      Array.from({ length: 400 }, (_, i) => ({ schema: "demo/CounterEvent@1", json: { key: `k${i % 7}`, by: 1 } })),
    );
    await w.close();
    const p = spawn(process.execPath, ["--import", "tsx", CLI, "log", "--json", "--world", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise<void>((r) => p.stdout.once("data", () => r()));
    p.stdout.destroy(); // like `head` exiting after its first lines
    const code = await new Promise<number | null>((r) => p.on("close", (c) => r(c)));
    expect(err).not.toContain("EPIPE");
    expect(code).toBe(0);
  }, 60_000);
});
