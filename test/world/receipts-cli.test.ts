/**
 * @module Receipts and approvals from the command line, on a real world with a real HTTP
 * server: `wk receipt list`, `wk receipt export` (signing a covering checkpoint on demand)
 * and `wk receipt verify` in a fresh process with no world; a policy that holds an intent
 * for approval keeps it waiting across a restart until `wk approve-effect` (or `--deny`).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, saveKeyPair } from "../../kernel/crypto/keys.js";
import { World, createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { writeFetcherAir } from "./fixtures/fetcher.js";

const CLI = new URL("../../tools/cli/main.ts", import.meta.url).pathname;
const wk = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });
/** Like `wk`, but leaves this process's event loop free (the test's HTTP server must answer). */
function wkAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", CLI, ...args]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += String(d)));
    p.stderr.on("data", (d) => (stderr += String(d)));
    p.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}
const opts = { adapters: defaultAdapters() };

let url = "";
const hits: string[] = [];
const server = createServer((req, res) => {
  hits.push(String(req.headers["idempotency-key"]));
  res.end("hello");
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => void server.close());

/** The fetcher world's AIR in a temp folder, with `mutate` applied to its policy. */
const fetcherAir = (mutatePolicy?: (p: Record<string, unknown>) => void): string =>
  writeFetcherAir(mkdtempSync(join(tmpdir(), "wk-fetcher-air-")), mutatePolicy);

describe("receipt bundles from the CLI", () => {
  it("list, export and verify offline; a flipped byte fails verification", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "wk-rcpt-")), "w");
    const w = await createWorld(dir, sourceFromAirDir(fetcherAir()), opts);
    await w.send("demo/Fetch@1", { key: "a", url: `${url}/one` });
    await w.close();

    const list = wk("receipt", "list", "--world", dir, "--json");
    expect(list.status, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { intent_id: string; decision: string; receipt: { status: string } }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ decision: "allow", receipt: { status: "ok" } });

    const exp = wk("receipt", "export", rows[0]!.intent_id, "--world", dir, "--payload");
    expect(exp.status, exp.stderr).toBe(0);
    const bundleDir = mkdtempSync(join(tmpdir(), "wk-bundle-"));
    const file = join(bundleDir, "bundle.json");
    writeFileSync(file, exp.stdout);
    const ok = wk("receipt", "verify", file, "--json");
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);

    const bundle = JSON.parse(exp.stdout) as { entry: { body_cbor: string } };
    const hex = bundle.entry.body_cbor;
    const i = Math.floor(hex.length / 2) & ~1;
    bundle.entry.body_cbor =
      hex.slice(0, i) + (parseInt(hex.slice(i, i + 2), 16) ^ 1).toString(16).padStart(2, "0") + hex.slice(i + 2);
    writeFileSync(file, JSON.stringify(bundle));
    const bad = wk("receipt", "verify", file, "--json");
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false });
  });
});

describe("require_approval", () => {
  it("holds an intent across a restart until approved; a refusal delivers a denied receipt; strangers cannot approve", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-approve-"));
    const approver = generateKeyPair();
    const stranger = generateKeyPair();
    saveKeyPair(join(base, "approver.key"), approver);
    saveKeyPair(join(base, "stranger.key"), stranger);
    const air = fetcherAir((p) => {
      (p.rules as { decision: string }[])[0]!.decision = "require_approval";
      p.approvers = [{ id: "ops", public_key: approver.publicKeyHex }];
      p.threshold = 1;
    });
    const dir = join(base, "w");
    const w = await createWorld(dir, sourceFromAirDir(air), opts);
    const before = hits.length;
    await w.send("demo/Fetch@1", { key: "a", url: `${url}/held` });
    await w.send("demo/Fetch@1", { key: "b", url: `${url}/refused` });
    expect([...w.state.pending.values()].map((p) => p.waiting)).toEqual(["approval", "approval"]);
    await w.close();

    const reopened = await World.open(dir, opts); // a restart keeps both waiting, nothing sent
    expect([...reopened.state.pending.values()].every((p) => p.waiting === "approval")).toBe(true);
    const [held, refused] = [...reopened.state.pending.keys()];
    await reopened.close();
    expect(hits.length).toBe(before);

    const denied = wk("approve-effect", held!, "--key", join(base, "stranger.key"), "--world", dir);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain("kernel.bad_approval");

    const approved = await wkAsync("approve-effect", held!, "--key", join(base, "approver.key"), "--world", dir);
    expect(approved.status, approved.stderr).toBe(0);
    expect(hits.length).toBe(before + 1);
    expect(
      (await wkAsync("approve-effect", refused!, "--key", join(base, "approver.key"), "--deny", "--world", dir)).status,
    ).toBe(0);
    expect(hits.length).toBe(before + 1);

    const rows = JSON.parse(wk("receipt", "list", "--world", dir, "--json").stdout) as {
      intent_id: string;
      receipt: { status: string } | null;
    }[];
    expect(rows.find((r) => r.intent_id === held)!.receipt!.status).toBe("ok");
    expect(rows.find((r) => r.intent_id === refused)!.receipt!.status).toBe("denied");
    const w2 = await World.open(dir, opts);
    expect(w2.cellState("demo/Fetcher@1", "b")).toMatchObject({ receipts: 1, last_status: "denied" });
    await w2.close();
    const v = wk("verify", "--world", dir, "--json");
    expect(v.status, v.stdout).toBe(0);
    const r = wk("replay", "--world", dir, "--json");
    expect(r.status, r.stdout).toBe(0);
  });

  it("a policy that names no approvers lets no one decide a held intent", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-approve-none-"));
    const anyone = generateKeyPair();
    saveKeyPair(join(base, "anyone.key"), anyone);
    const air = fetcherAir((p) => {
      (p.rules as { decision: string }[])[0]!.decision = "require_approval";
      delete p.approvers;
    });
    const dir = join(base, "w");
    const w = await createWorld(dir, sourceFromAirDir(air), opts);
    await w.send("demo/Fetch@1", { key: "a", url: `${url}/nobody` });
    const [held] = [...w.state.pending.keys()];
    await expect(w.decideHeldIntent(held!, anyone, "allow")).rejects.toMatchObject({
      code: "kernel.bad_approval",
      message: expect.stringContaining("names no approvers"),
    });
    await w.close();
    const r = wk("approve-effect", held!, "--key", join(base, "anyone.key"), "--world", dir, "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: "kernel.bad_approval" });
    expect(wk("verify", "--world", dir).status).toBe(0); // nothing was written
  });
});
