/**
 * The KYC world under its eight attacks (tools/cli/demo/kyc, what `wk demo kyc` runs), in
 * process: real worlds in temp folders, the real AssemblyScript workflow, a real 127.0.0.1
 * document-check and payout service that records what actually reached it, real signatures,
 * and the harness's clock injected (a counter, so detection lags are exact, not timed). Each
 * attack's outcome is asserted by what stopped or caught it — the gate stage and rule, the
 * approval check, the workflow's guard, the verify fault at its seq — and by the services'
 * own records: no attack performs an effect it should not. `wk explain` on the held payout
 * gives the recorded reasoning of the step that asked for it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ATTACKS, type AttackName, type Verdict } from "../../tools/cli/demo/kyc/attacks.js";
import { runKycHarness, verdictTable } from "../../tools/cli/demo/kyc/harness.js";
import { registerTrace } from "../../tools/cli/commands/trace.js";
import { registerJournal } from "../../tools/cli/commands/journal.js";
import { registerAnalyze } from "../../tools/cli/commands/analyze.js";
import { inProcessWk } from "../cli/in-process.js";

const wk = inProcessWk(registerTrace, registerJournal, registerAnalyze);
let base = "";
const verdicts = new Map<AttackName, Verdict>();
let table = "";

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "wk-kyc-"));
  let t = 1_800_000_000_000_000_000n;
  const run = await runKycHarness({ base, clock: () => (t += 1_000_000n) });
  for (const v of run) verdicts.set(v.attack, v);
  table = verdictTable(run);
}, 120_000);

const verdict = (a: AttackName): Verdict => {
  const v = verdicts.get(a);
  if (!v) throw new Error(`no verdict for ${a}`);
  return v;
};

describe("the KYC world under attack", () => {
  it("runs all eight attacks; each goes as expected and no effect escapes", () => {
    expect([...verdicts.keys()]).toEqual([...ATTACKS]);
    for (const v of verdicts.values()) {
      expect(v.escaped, `${v.attack}: ${v.escaped.join("; ")}`).toEqual([]);
      expect(v.ok, `${v.attack}:\n${table}`).toBe(true);
    }
    expect(table).toContain("8 attack(s), all as expected, no effect escaped");
  });

  it("tool_injection: both injected calls are denied at the grant stage, and the detector flags the carry-on", () => {
    const c = verdict("tool_injection").caught.join("\n");
    expect(c).toMatch(/gate grant: path_not_allowed \(grant docs\) seq \d+/);
    expect(c).toMatch(/gate grant: host_not_allowed \(grant docs\) seq \d+/);
    expect(c).toContain("detector silent_failure");
  });

  it("policy_bypass: the over-threshold payout is held by rule 0's condition; another key cannot approve it", () => {
    const v = verdict("policy_bypass");
    expect(v.outcome).toBe("blocked");
    expect(v.caught[0]).toMatch(/gate policy: policy\.require_approval \(kyc\/onboarding-policy@1 rule 0\) seq \d+/);
    expect(v.caught[1]).toMatch(/approval refused: kernel\.bad_approval: key [0-9a-f]+… is not an approver/);
  });

  it("skip_step: a forged receipt is refused at ingress; a receipt cut out of the journal fails verify at its seq", () => {
    const [ingress, verify] = verdict("skip_step").caught;
    expect(ingress).toContain("ingress refused: kernel.unknown_schema");
    expect(verify).toMatch(/^verify: bad_prev_hash at seq (\d+) \(deleted seq \1, renumbered the rest\)$/);
  });

  it("reorder_steps: the resubmission is ignored by the workflow; swapped entries fail verify at the first of them", () => {
    const [guard, verify] = verdict("reorder_steps").caught;
    expect(guard).toMatch(/workflow guard: resubmission ignored while the payout is payment/);
    expect(verify).toMatch(/^verify: bad_prev_hash at seq (\d+) \(swapped seq \1 and \d+\)$/);
  });

  it("corrupt_receipt and corrupt_hash: the offline bundle check and verify name the fault and the seq", () => {
    const r = verdict("corrupt_receipt").caught;
    expect(r[0]).toBe("offline bundle verify: payload_mismatch");
    expect(r[1]).toMatch(/^verify: hash_mismatch at seq (\d+) \(flipped one bit of the body of seq \1\)$/);
    expect(verdict("corrupt_hash").caught[0]).toMatch(
      /^verify: hash_mismatch at seq (\d+) \(flipped one bit of the hash of seq \1\)$/,
    );
  });

  it("double_exec: one payout — a duplicate key appends nothing, the keyless resend is ignored, replay calls nobody", () => {
    const c = verdict("double_exec").caught;
    expect(c[0]).toMatch(/idempotency key application-dana already at seq 1, nothing appended/);
    expect(c[1]).toContain("ignored (cell already paid)");
    expect(c[2]).toMatch(/^replay: \d+ entries re-executed/);
  });

  it("gdpr_erase: the document is gone from every file; verify, replay and audit pass; the cell was told", () => {
    const c = verdict("gdpr_erase").caught;
    expect(c[0]).toMatch(/document found in [1-9]\d* file\(s\) before, 0 after/);
    expect(c[1]).toMatch(/the cell was told: erased \["sha256:[0-9a-f]{64}"\]/);
    expect(c[2]).toBe("verify ok, replay ok (same state root), audit ok");
  });

  it("detection lags are on the injected clock: exact whole ticks, and none where nothing was to be caught", () => {
    for (const v of verdicts.values()) {
      if (v.attack === "gdpr_erase") expect(v.detectLagNs).toBeNull();
      else {
        expect(v.detectLagNs, v.attack).not.toBeNull();
        expect(v.detectLagNs! % 1_000_000n).toBe(0n);
        expect(v.detectLagNs! > 0n).toBe(true);
      }
    }
  });

  it("wk explain on the held payout shows the step's recorded reasoning: the risk factors, the score and the decision", async () => {
    const world = join(base, "policy_bypass");
    const log = await wk("log", "--world", world, "--kind", "effect_intent", "--json");
    expect(log.exit).toBe(0);
    const intents = JSON.parse(log.stdout) as { body: { intent_id: string; grant: string } }[];
    const payout = intents.find((i) => i.body.grant === "payments");
    expect(payout).toBeDefined();
    const r = await wk("explain", payout!.body.intent_id, "--world", world, "--json");
    expect(r.exit).toBe(0);
    const x = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(x).toMatchObject({
      reasoning: {
        ann: {
          factors: [{ factor: "amount over 1000", points: 20 }],
          score: 20,
          band: "low",
          screening: "clear",
          tool_calls: [],
          decision: "pay 5000 to oscar",
        },
      },
    });
    const text = await wk("explain", payout!.body.intent_id, "--world", world);
    expect(text.stdout).toContain("require_approval");
    expect(text.stdout).toContain("kyc/onboarding-policy@1");
    expect(text.stdout).toMatch(/denied|refused/);
  });

  it("wk analyze on the tool-injection world warns (exit 1) about the denials the cell carried on after", async () => {
    const r = await wk("analyze", "--world", join(base, "tool_injection"));
    expect(r.exit).toBe(1);
    expect(r.stdout).toContain("silent_failure");
  });
});
