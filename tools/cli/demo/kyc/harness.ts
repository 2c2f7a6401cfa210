/**
 * @module The KYC attack harness: starts the services, runs the chosen attacks (each in its
 * own world under `base`), and prints the verdict table — each attack, what should happen,
 * what stopped or caught it, whether any effect escaped, and the time from the injected
 * anomaly to its detection. `wk demo kyc` and test/world/kyc-harness.test.ts both run it.
 */
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "../../../../kernel/crypto/keys.js";
import { ATTACK_RUNS, ATTACKS, type AttackName, type Verdict } from "./attacks.js";
import { startKycServices } from "./services.js";

/** How to run the harness. */
export interface HarnessOptions {
  /** Folder the attack worlds are created in (one subfolder per attack). */
  base: string;
  /** Which attacks (default: all eight, in table order). */
  attacks?: readonly AttackName[];
  /** The clock the worlds and the detection lag use (ns); default: the wall clock. */
  clock?: () => bigint;
  /** Called with each verdict as it is reached (progress). */
  onVerdict?: (v: Verdict) => void;
}

/** Runs the attacks and returns their verdicts in order. */
export async function runKycHarness(opts: HarnessOptions): Promise<Verdict[]> {
  const services = await startKycServices(`kyc-doc-key-${randomBytes(12).toString("hex")}`);
  const clock = opts.clock ?? (() => process.hrtime.bigint());
  const compliance = generateKeyPair();
  const out: Verdict[] = [];
  try {
    for (const name of opts.attacks ?? ATTACKS) {
      const v = await ATTACK_RUNS[name]({ base: opts.base, services, compliance, clock });
      opts.onVerdict?.(v);
      out.push(v);
    }
    // What no attack may do: send the document-check key anywhere but the provider, unauthenticated.
    const bad = services.docRequests.filter((r) => !r.authorized);
    if (bad.length) throw new Error(`${bad.length} document request(s) arrived without the API key`);
  } finally {
    await services.close();
  }
  return out;
}

const ms = (ns: bigint | null) => (ns === null ? "—" : `${(Number(ns) / 1e6).toFixed(1)} ms`);

/** The verdict table as text: one block per attack. */
export function verdictTable(verdicts: readonly Verdict[]): string {
  const lines: string[] = [];
  lines.push(`${"attack".padEnd(16)}${"outcome".padEnd(10)}${"escaped".padEnd(9)}${"detected in".padEnd(13)}verdict`);
  for (const v of verdicts) {
    lines.push(
      `${v.attack.padEnd(16)}${v.outcome.padEnd(10)}${String(v.escaped.length).padEnd(9)}${ms(v.detectLagNs).padEnd(13)}${v.ok ? "as expected" : "NOT AS EXPECTED"}`,
    );
    lines.push(`    expected: ${v.expected}`);
    for (const c of v.caught) lines.push(`    caught:   ${c}`);
    for (const e of v.escaped) lines.push(`    ESCAPED:  ${e}`);
  }
  const failed = verdicts.filter((v) => !v.ok).length;
  lines.push(
    failed === 0
      ? `${verdicts.length} attack(s), all as expected, no effect escaped`
      : `${failed} of ${verdicts.length} attack(s) NOT as expected`,
  );
  return lines.join("\n") + "\n";
}
