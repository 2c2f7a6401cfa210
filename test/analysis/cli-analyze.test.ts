/**
 * @module `wk analyze` and `wk log --ndjson`, driven in process (the commands' own registration
 * on a commander program; stdout captured): the exit contract — 0 clean, 1 warnings, 2 critical,
 * `--strict` turning warnings critical, 3 for an input it cannot judge — on worlds the real kernel
 * recorded; thresholds from config.json and `--config`; `--since`; a world whose journal fails
 * verification refused (and analyzed with `--no-verify`); the NDJSON export read back to the
 * same findings, and a bad or missing line named by its number.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { JournalLineSchema, type AnalysisReport } from "../../kernel/analysis/index.js";
import { registerAnalyze } from "../../tools/cli/commands/analyze.js";
import { registerJournal } from "../../tools/cli/commands/journal.js";
import { inProcessWk } from "../cli/in-process.js";
import { editConfig, flipBodyByte } from "../world/attack-helpers.js";
import { agentWorld, get, request } from "./agent-world.js";
import { linesOf } from "./journal-lines.js";

/** Runs `wk <args>` in this process: the exit code it would end with and what it printed. */
const wk = inProcessWk(registerAnalyze, registerJournal);

const report = (stdout: string) => JSON.parse(stdout) as AnalysisReport;
const DENIED = "http://example.com/";
const approver = generateKeyPair();
const W: Record<"clean" | "warned" | "critical", string> = { clean: "", warned: "", critical: "" };

beforeAll(async () => {
  const make = async (reqs: ReturnType<typeof request>[]) => {
    const { w, dir } = await agentWorld(approver);
    await w.sendMany(reqs);
    await w.close();
    return dir;
  };
  [W.clean, W.warned, W.critical] = await Promise.all([
    make([request("a"), request("a", { next: ["demo/ToB@1"] })]),
    // A denied effect left unhandled, and the cell carries on: a silent failure (warn).
    make([request("q", { effects: [get(DENIED)], on_fail: "ignore" }), request("q")]),
    // A denied effect answered with status "done": a silent failure that claims success (critical).
    make([request("l", { effects: [get(DENIED)], on_fail: "claim" })]),
  ]);
}, 120_000);

describe("wk analyze: the exit contract", () => {
  it("0 clean, 1 warnings, 2 critical; --strict makes warnings critical", async () => {
    const clean = await wk("analyze", "--world", W.clean, "--json");
    expect(clean.exit).toBe(0);
    expect(report(clean.stdout)).toMatchObject({
      findings: [],
      counts: { warn: 0, critical: 0 },
      exit: 0,
      checked: "verified",
    });

    const warned = await wk("analyze", "--world", W.warned, "--json");
    expect(warned.exit).toBe(1);
    expect(report(warned.stdout).findings.map((f) => [f.detector, f.severity])).toEqual([["silent_failure", "warn"]]);
    expect((await wk("analyze", "--world", W.warned, "--strict", "--json")).exit).toBe(2);
    expect((await wk("analyze", "--world", W.clean, "--strict")).exit).toBe(0);

    const critical = await wk("analyze", "--world", W.critical);
    expect(critical.exit).toBe(2);
    expect(critical.stdout).toMatch(/^CRITICAL silent_failure/m);
    expect(critical.stdout).toContain("1 critical, 0 warning(s), 0 info");
  });

  it("--since leaves out what came before; --config and config.json's analysis section set the thresholds", async () => {
    const lines = await linesOf(W.warned);
    const last = lines[lines.length - 1]!.seq;
    expect((await wk("analyze", "--world", W.warned, "--since", String(last))).exit).toBe(0);

    // "done" claims success by default; with only "paid" counting as a claim, the cell reported its failure.
    const cfg = join(W.critical, "..", "analysis.json");
    writeFileSync(cfg, JSON.stringify({ silent_failure: { success_values: ["paid"] } }));
    expect((await wk("analyze", "--world", W.critical, "--config", cfg)).exit).toBe(0);
    writeFileSync(
      cfg,
      JSON.stringify({ analysis: { silent_failure: { success_flags: [], success_values: ["paid"] } } }),
    );
    expect((await wk("analyze", "--world", W.critical, "--config", cfg)).exit).toBe(0);

    // The same thresholds from the world's own config.json.
    editConfig(W.critical, (c) => (c.analysis = { silent_failure: { success_values: ["paid"] } }));
    expect((await wk("analyze", "--world", W.critical, "--json")).exit).toBe(0);
    editConfig(W.critical, (c) => delete c.analysis);
    expect((await wk("analyze", "--world", W.critical)).exit).toBe(2);
    writeFileSync(cfg, JSON.stringify({ retry_storm: { min_repeats: 0 } }));
    const bad = await wk("analyze", "--world", W.clean, "--config", cfg);
    expect([bad.exit, bad.error?.code]).toEqual([3, "analysis.bad_config"]);
  });

  it("a journal that fails verification is refused (exit 3), and analyzed with --no-verify", async () => {
    const { w, dir } = await agentWorld(approver);
    await w.sendMany([request("q", { effects: [get(DENIED)], on_fail: "ignore" }), request("q")]);
    await w.close();
    flipBodyByte(dir, 2);
    const r = await wk("analyze", "--world", dir, "--json");
    expect(r.exit).toBe(3);
    expect(r.error).toMatchObject({ code: "analysis.unverified", seq: 2 });
    expect(r.stdout).toBe("");
    // Unverified, the analysis still runs (the flipped byte is in a step's state hash, not a field it reads).
    const loose = await wk("analyze", "--world", dir, "--no-verify", "--json");
    expect(report(loose.stdout)).toMatchObject({ checked: "none", counts: { warn: 1 } });
  });

  it("usage: --world and --file together, --json and --ndjson together", async () => {
    expect((await wk("analyze", "--world", W.clean, "--file", "x.ndjson")).exit).toBe(2);
    expect((await wk("log", "--ndjson", "--json", "--world", W.clean)).exit).toBe(2);
  });
});

describe("wk log --ndjson and wk analyze --file", () => {
  it("one JSON entry per line, read back to the same findings as the world", async () => {
    const out = await wk("log", "--ndjson", "--world", W.critical);
    const lines = out.stdout.trimEnd().split("\n");
    expect(lines.map((l) => JournalLineSchema.parse(JSON.parse(l)))).toEqual(await linesOf(W.critical));
    const file = join(W.critical, "..", "journal.ndjson");
    writeFileSync(file, out.stdout);
    const fromFile = await wk("analyze", "--file", file, "--json");
    const fromWorld = await wk("analyze", "--world", W.critical, "--json");
    expect(fromFile.exit).toBe(2);
    expect(report(fromFile.stdout)).toEqual({ ...report(fromWorld.stdout), checked: "chain" });
  });

  it("a bad line, a dropped line or a missing file is refused with exit 3, naming the line", async () => {
    const text = (await wk("log", "--ndjson", "--world", W.warned)).stdout;
    const file = join(W.warned, "..", "journal.ndjson");
    const rows = text.trimEnd().split("\n");
    const cases: [string[], string, RegExp][] = [
      [[...rows.slice(0, 3), "{not json", ...rows.slice(3)], "analysis.bad_line", /^line 4: not JSON/],
      [
        [...rows.slice(0, 2), JSON.stringify({ ...JSON.parse(rows[2]!), kind: "nope" }), ...rows.slice(3)],
        "analysis.bad_line",
        /^line 3: .* at \$\.kind/,
      ],
      [[...rows.slice(0, 2), ...rows.slice(3)], "analysis.broken_chain", /^line 3: seq 3 follows seq 1/],
    ];
    for (const [content, code, message] of cases) {
      writeFileSync(file, content.join("\n") + "\n");
      const r = await wk("analyze", "--file", file, "--json");
      expect(r.exit, code).toBe(3);
      expect(r.error).toMatchObject({ code });
      expect(String(r.error?.message)).toMatch(message);
    }
    const missing = await wk("analyze", "--file", join(W.warned, "..", "no-such.ndjson"));
    expect(missing.exit).toBe(3);
    expect(readFileSync(file, "utf8")).not.toBe("");
  });
});
