/**
 * @module Issue 21: a shadow report shows every change of authority. The governed counter world
 * (test/world/fixtures/governed-counter.ts) with an HTTP grant and an LLM grant that no module
 * uses gets a patch that only widens the HTTP grant's hosts and raises the LLM grant's
 * max_tokens: no replayed event exercises either, so cells, entries, decisions and failures show
 * nothing — and the report still lists both changes, each flagged as widening, journaled under
 * the hash approvers sign; `wk shadow` prints them (`--json` includes them) and `wk approve`
 * shows them before it signs; the journal verifies. A report as kernels before it journaled one
 * (no such field) still reads, is approved and verifies.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildCatalogOrThrow, encodeStored, hashValue, jsonToCbor, type AnyDef } from "../../air/index.js";
import { generateKeyPair, saveKeyPair } from "../../kernel/crypto/keys.js";
import { World, createWorld, latestShadowReport, propose, shadow } from "../../kernel/world/index.js";
import { listProposals } from "../../kernel/world/governance.js";
import { EVENT, expectVerifies, governed } from "./fixtures/governed-counter.js";
import { json, wk } from "./cli-harness.js";

const WEB = {
  name: "web",
  cap: "sys/http.out@1",
  params: { hosts: ["127.0.0.1"], schemes: ["http"], methods: ["GET"] },
};
const MODEL = { name: "model", cap: "sys/llm.basic@1", params: { providers: ["local"], max_tokens: 256 } };

/** The governed counter naming `approver`, with the two grants (unbound: no step uses them) and 4 recorded events. */
async function grantedCounter(approver: string): Promise<{ w: World; dir: string }> {
  const src = governed([approver]);
  const defs = src.catalog.sources.filter((d) => d.$kind !== "manifest" && !d.name.startsWith("sys/"));
  const manifest = {
    ...src.catalog.manifest,
    caps: [{ name: "sys/http.out@1" }, { name: "sys/llm.basic@1" }],
    defaults: { ...src.catalog.manifest.defaults, cap_grants: [WEB, MODEL] },
  };
  const catalog = buildCatalogOrThrow([{ file: "granted", value: [...defs, manifest] as AnyDef[] }]);
  const dir = join(mkdtempSync(join(tmpdir(), "wk-authority-")), "w");
  const w = await createWorld(dir, { catalog, wasm: src.wasm });
  await w.sendMany(Array.from({ length: 4 }, (_, i) => ({ schema: EVENT, json: { key: i % 2 ? "a" : "b", by: 3 } })));
  return { w, dir };
}

/** The patch that widens `web`'s hosts and raises `model`'s max_tokens, and nothing else. */
const wideningPatch = (base: string) => ({
  base_manifest_hash: base,
  description: "let the fetcher reach api.example.com and the model write longer answers",
  patches: [
    {
      set_defaults: {
        cap_grants: [
          { ...WEB, params: { ...WEB.params, hosts: ["127.0.0.1", "api.example.com"] } },
          { ...MODEL, params: { ...MODEL.params, max_tokens: 4096 } },
        ],
      },
    },
  ],
});

const EXPECTED = [
  {
    kind: "grant",
    name: "model",
    change: "changed",
    path: "$.params.max_tokens",
    before: 256,
    after: 4096,
    widens: true,
  },
  {
    kind: "grant",
    name: "web",
    change: "changed",
    path: "$.params.hosts",
    before: ["127.0.0.1"],
    after: ["127.0.0.1", "api.example.com"],
    widens: true,
  },
];

describe("the shadow report lists every change of authority", () => {
  it("a patch that only widens a grant's hosts and an LLM token ceiling shows both, flagged, in the kernel's report and the CLI", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-authority-keys-"));
    const approver = generateKeyPair();
    saveKeyPair(join(base, "a.key"), approver);
    const { w, dir } = await grantedCounter(approver.publicKeyHex);
    const { proposalId } = await propose(w, wideningPatch(w.catalog.manifestHash), { proposer: generateKeyPair() });

    // Replayed history exercises neither grant: everything but the authority changes is empty.
    const { report, reportHash } = await shadow(w, proposalId);
    expect(report).toMatchObject({ events: 4, cells: [], failures: [], decision_changes: {}, new_intents: 0 });
    expect(report.authority_changes).toEqual(EXPECTED);

    // Journaled as is, under the hash an approval signs; the console's listing carries it too.
    const latest = latestShadowReport(w, proposalId)!;
    expect(latest.reportHash).toBe(reportHash);
    expect(latest.report!.authority_changes).toEqual(EXPECTED);
    expect(listProposals(w).find((p) => p.proposal_id === proposalId)!.report!.authority_changes).toEqual(EXPECTED);
    await w.close();

    const text = wk("shadow", proposalId, "--world", dir);
    expect(text.status, text.stderr + text.stdout).toBe(0);
    expect(text.stdout).toContain("0 failed step(s), 2 authority change(s) (2 widening)");
    expect(text.stdout).toContain("  WIDENS grant model $.params.max_tokens: 256 → 4096\n");
    expect(text.stdout).toContain(
      '  WIDENS grant web $.params.hosts: ["127.0.0.1"] → ["127.0.0.1","api.example.com"]\n',
    );

    const out = json<{ authority_changes: unknown; report_hash: string }>(
      wk("shadow", proposalId, "--world", dir, "--json"),
    );
    expect(out.authority_changes).toEqual(EXPECTED);

    // The approver sees them before signing; the approval binds the report that lists them.
    const approved = wk("approve", proposalId, "--key", join(base, "a.key"), "--world", dir);
    expect(approved.status, approved.stderr + approved.stdout).toBe(0);
    expect(approved.stdout).toContain("2 authority change(s) (2 widening)");
    expect(approved.stdout).toContain("  WIDENS grant web $.params.hosts:");

    await expectVerifies(await World.open(dir), dir);
  }, 120_000);

  it("a report journaled before authority changes were listed still verifies, reads and is approved, saying nothing of them", async () => {
    const keys = mkdtempSync(join(tmpdir(), "wk-authority-keys-"));
    const approver = generateKeyPair();
    saveKeyPair(join(keys, "a.key"), approver);
    const { w, dir } = await grantedCounter(approver.publicKeyHex);
    const { proposalId } = await propose(w, wideningPatch(w.catalog.manifestHash), { proposer: generateKeyPair() });
    // The report as a kernel before issue 21 journaled it: the same fields, no authority_changes.
    const { authority_changes: _, ...old } = (await shadow(w, proposalId)).report;
    const blob = jsonToCbor(old);
    await w.appendRecord("shadow_report", {
      proposal_id: proposalId,
      report_ref: w.store.putBlobSync(encodeStored(blob)),
      report_hash: hashValue(blob),
      failures: 0,
    });
    const latest = latestShadowReport(w, proposalId)!;
    expect(latest.reportHash).toBe(hashValue(blob));
    expect(latest.report).not.toHaveProperty("authority_changes");
    await w.close();

    // `wk approve` shows it before signing, with no authority line, and signs it.
    const shown = wk("approve", proposalId, "--key", join(keys, "a.key"), "--world", dir);
    expect(shown.status, shown.stderr + shown.stdout).toBe(0);
    expect(shown.stdout).toMatch(/ 0 failed step\(s\), fuel \d+ → \d+\n/);
    expect(shown.stdout).not.toContain("authority");
    await expectVerifies(await World.open(dir), dir);
  }, 120_000);
});
