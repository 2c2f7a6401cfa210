/**
 * @module `wk demo`: the end-to-end tour `npm start` runs. It builds its worlds in
 * `--world DIR` (default: a fresh temp folder, printed) and leaves them for inspection.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { counterTour } from "../demo/counter-tour.js";
import { summarizerTour } from "../demo/summarizer-tour.js";
import { governanceTour } from "../demo/governance-tour.js";
import { selfUpgradeTour } from "../demo/self-upgrade-tour.js";

/** Registers `wk demo`. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "the end-to-end tour: worlds, replay, fork, verify, tamper detection, gated effects, offline receipts, governance",
    )
    .option("--world <dir>", "folder for the demo worlds (default: a new temp folder)")
    .action(async (opts: { world?: string }) => {
      const base = opts.world ? resolve(opts.world) : mkdtempSync(join(tmpdir(), "wk-demo-"));
      mkdirSync(base, { recursive: true });
      process.stdout.write(`worldkernel demo — worlds are kept in ${base}\n`);
      const started = Date.now();
      const counter = await counterTour(base);
      const summarizer = await summarizerTour(base, 7);
      await governanceTour(base, 10);
      await selfUpgradeTour(base, 11);
      process.stdout.write(
        `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Inspect with:\n  npx wk log --world ${counter} --kind step\n  npx wk state --world ${counter}\n  npx wk verify --world ${join(base, "counter-tampered")}\n  npx wk receipt list --world ${summarizer}\n  npx wk receipt verify ${join(base, "llm-receipt.bundle.json")}\nServe them (HTTP API, approval console at /console/, /metrics; docs/serve.md):\n  npx wk serve --worlds ${base}\n`,
      );
    });
}
