/**
 * @module `wk shadow <id> --events FILE` / `shadow(w, id, { events })` (issue 15): given NDJSON
 * events run on today's state under the old and the new manifest instead of the recorded window,
 * reported as the windowed run is (journaled; `source: "events"` and the file's sha256). The
 * events are checked under the proposed manifest first: a bad one is a typed error naming the
 * line and the JSON path, and nothing is journaled. `--events` with `--since` or `--window` is a
 * usage error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, hashBytes, type CborObject } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { approve, apply, propose, shadow, type World } from "../../kernel/world/index.js";
import { ok, wk } from "./cli-harness.js";
import { EVENT, expectVerifies, fuelPatch, proposedFuelPatchViaCli, worldWith } from "./fixtures/governed-counter.js";

const reports = (w: World) =>
  [...w.store.ruleEntriesSync()]
    .filter((e) => e.kind === "shadow_report")
    .map((e) => decodeStored(e.body) as CborObject);

describe("shadow over given events", () => {
  it("runs the events on today's state under both manifests, journals the report, and names the failing lines", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const before = w.stateRefs().state_root;
    const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 1), {
      proposer: generateKeyPair(),
    });
    const events = [
      { schema: EVENT, value: { key: "new", by: 1 }, line: 1 },
      { schema: EVENT, value: { key: "a", by: 2 }, line: 3 },
    ];
    const { report, reportHash } = await shadow(w, proposalId, { events });
    expect(report).toMatchObject({ source: "events", events: 2, report_version: 2 });
    expect(report.events_sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(report.failures.map((f) => [f.key, f.line])).toEqual([
      ["new", 1],
      ["a", 3],
    ]);
    expect(report.cells.map((c) => c.key).sort()).toEqual(["a", "new"]);
    expect(reports(w).at(-1)).toMatchObject({ report_hash: reportHash, failures: 2 });
    expect(w.stateRefs().state_root).toBe(before); // nothing ran for real
    await approve(w, proposalId, a, { acceptFailures: true });
    await apply(w, proposalId);
    await expectVerifies(w, dir);
  }, 60_000);

  it("checks every event under the proposed manifest first: a bad one names line and path, and nothing is journaled", async () => {
    const { w, dir, src } = await worldWith([generateKeyPair()]);
    const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 50_000_000), {
      proposer: generateKeyPair(),
    });
    const count = w.store.countSync();
    const good = { schema: EVENT, value: { key: "a", by: 1 }, line: 1 };
    await expect(
      shadow(w, proposalId, { events: [good, { schema: EVENT, value: { key: "a", by: "x" }, line: 4 }] }),
    ).rejects.toMatchObject({
      code: "kernel.bad_event",
      path: "$.value.by",
      message: expect.stringMatching(/^line 4 at \$\.value\.by: /),
    });
    await expect(
      shadow(w, proposalId, { events: [good, { schema: "demo/Nope@1", value: {}, line: 2 }] }),
    ).rejects.toMatchObject({
      code: "kernel.unknown_schema",
      path: "$.schema",
      message: expect.stringContaining("line 2"),
    });
    await expect(shadow(w, proposalId, { events: [good], window: 5 })).rejects.toMatchObject({
      code: "governance.conflicting_options",
    });
    await expect(shadow(w, proposalId, { events: [good], since: 0 })).rejects.toMatchObject({
      code: "governance.conflicting_options",
    });
    expect(w.store.countSync()).toBe(count);
    expect(reports(w)).toHaveLength(0);
    await expectVerifies(w, dir);
  }, 60_000);
});

describe("wk shadow --events", () => {
  it("reports the file's events with its sha256; a bad line fails naming it; --since/--window with it is a usage error", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-shadow-events-"));
    const { dir, id } = await proposedFuelPatchViaCli(base, [generateKeyPair()], 50_000_000);

    const file = join(base, "events.ndjson");
    writeFileSync(
      file,
      `{"schema": "${EVENT}", "value": {"key": "a", "by": 1}}\n\n{"schema": "${EVENT}", "value": {"key": "z", "by": 5}}\n`,
    );
    const rep = ok<{ source: string; events_sha256: string; events: number; failures: unknown[]; report_hash: string }>(
      "shadow",
      id,
      "--events",
      file,
      "--world",
      dir,
      "--json",
    );
    expect(rep).toMatchObject({ source: "events", events: 2, failures: [] });
    expect(rep.events_sha256).toBe(hashBytes(new Uint8Array(readFileSync(file))));
    const text = wk("shadow", id, "--events", file, "--world", dir);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`2 event(s) from ${file} (${rep.events_sha256}) run`);

    const bad = join(base, "bad.ndjson");
    writeFileSync(
      bad,
      `{"schema": "${EVENT}", "value": {"key": "a", "by": 1}}\n{"schema": "${EVENT}", "value": {"key": "a", "by": -1}}\n`,
    );
    const r = wk("shadow", id, "--events", bad, "--world", dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: kernel\.bad_event: line 2 at \$\.value\.by: /m);
    const notJson = join(base, "notjson.ndjson");
    writeFileSync(notJson, `{"schema": "${EVENT}", "value": {"key": "a", "by": 1}}\n{"schema"\n`);
    const j = wk("shadow", id, "--events", notJson, "--world", dir, "--json");
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, code: "ingest.invalid_json" });

    expect(wk("shadow", id, "--events", file, "--since", "0", "--world", dir).status).toBe(2);
    expect(wk("shadow", id, "--events", file, "--window", "5", "--world", dir).status).toBe(2);
    // Two reports journaled (the good runs), none for the refused ones; the journal verifies.
    const v = ok<{ ok: boolean }>("verify", "--world", dir, "--json");
    expect(v.ok).toBe(true);
    const log = ok<unknown[]>("log", "--kind", "shadow_report", "--world", dir, "--json");
    expect(log).toHaveLength(2);
  }, 120_000);
});
