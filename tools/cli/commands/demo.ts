/**
 * @module `wk demo [kyc]`: the end-to-end tour `npm start` runs, or the KYC world under attack.
 * Both build their worlds in `--world DIR` (default: a fresh temp folder, printed) and leave
 * them for inspection. `wk demo kyc` exits 1 when any attack did not go as expected.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { counterTour } from "../demo/counter-tour.js";
import { summarizerTour } from "../demo/summarizer-tour.js";
import { governanceTour } from "../demo/governance-tour.js";
import { selfUpgradeTour } from "../demo/self-upgrade-tour.js";
import { ATTACKS, type AttackName } from "../demo/kyc/attacks.js";
import { runKycHarness, verdictTable } from "../demo/kyc/harness.js";
import { CliExit, EXIT, onFile, printJson } from "../io.js";

const SCENARIOS = ["tour", "kyc"] as const;

/** The attacks `--inject` names (comma-separated, each once), or all of them. */
function attacksOf(inject: string | undefined): AttackName[] {
  if (inject === undefined) return [...ATTACKS];
  const names = inject.split(",").map((s) => s.trim());
  for (const n of names)
    if (!(ATTACKS as readonly string[]).includes(n))
      throw new CliExit(EXIT.usage, `--inject: unknown attack "${n}" (one of ${ATTACKS.join(", ")})`);
  return ATTACKS.filter((a) => names.includes(a));
}

async function tour(base: string): Promise<void> {
  process.stdout.write(`worldkernel demo — worlds are kept in ${base}\n`);
  const started = Date.now();
  const counter = await counterTour(base);
  const summarizer = await summarizerTour(base, 7);
  await governanceTour(base, 10);
  await selfUpgradeTour(base, 11);
  process.stdout.write(
    `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Inspect with:\n  npx wk log --world ${counter} --kind step\n  npx wk state --world ${counter}\n  npx wk verify --world ${join(base, "counter-tampered")}\n  npx wk receipt list --world ${summarizer}\n  npx wk receipt verify ${join(base, "llm-receipt.bundle.json")}\n  npx wk demo kyc   (the KYC world under eight attacks)\nServe them (HTTP API, approval console at /console/, /metrics; docs/serve.md):\n  npx wk serve --worlds ${base}\n`,
  );
}

async function kyc(base: string, attacks: AttackName[], json: boolean): Promise<void> {
  if (!json) process.stdout.write(`KYC world under attack — one world per attack in ${base}\n`);
  const verdicts = await runKycHarness({
    base,
    attacks,
    onVerdict: (v) => {
      if (!json) process.stdout.write(`  ${v.attack}: ${v.ok ? "as expected" : "NOT AS EXPECTED"}\n`);
    },
  });
  if (json)
    printJson({
      base,
      verdicts: verdicts.map(({ detectLagNs, ...v }) => ({ ...v, detect_lag_ns: detectLagNs?.toString() ?? null })),
    });
  else process.stdout.write(`\n${verdictTable(verdicts)}`);
  if (verdicts.some((v) => !v.ok)) throw new CliExit(EXIT.check_failed, "");
}

/** Registers `wk demo`. */
export function registerDemo(program: Command): void {
  program
    .command("demo [scenario]")
    .description(
      "the end-to-end tour (worlds, replay, fork, verify, tamper detection, gated effects, offline receipts, governance), or `kyc`: the KYC world under eight attacks, with a verdict table",
    )
    .option("--world <dir>", "folder for the demo worlds (default: a new temp folder)")
    .option("--inject <names>", `kyc only: the attacks to run, comma-separated (${ATTACKS.join(", ")}; default: all)`)
    .option("--json", "kyc only: the verdicts as JSON")
    .action(async (scenario: string | undefined, opts: { world?: string; inject?: string; json?: boolean }) => {
      const which = scenario ?? "tour";
      if (!(SCENARIOS as readonly string[]).includes(which))
        throw new CliExit(EXIT.usage, `unknown demo "${which}" (one of ${SCENARIOS.join(", ")})`);
      if (which === "tour" && (opts.inject !== undefined || opts.json))
        throw new CliExit(EXIT.usage, "--inject and --json belong to `wk demo kyc`");
      const attacks = which === "kyc" ? attacksOf(opts.inject) : [];
      const base = opts.world
        ? resolve(opts.world)
        : mkdtempSync(join(tmpdir(), `wk-${which === "kyc" ? "kyc" : "demo"}-`));
      onFile("write", base, () => mkdirSync(base, { recursive: true }));
      if (which === "kyc") await kyc(base, attacks, opts.json === true);
      else await tour(base);
    });
}
