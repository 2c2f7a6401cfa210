/**
 * @module Counterfactual shadow run over a 10,000-event world (re-execute every event since
 * genesis under a proposed manifest — here one that keeps the AssemblyScript counter, so both
 * sides run the same module code and every cell ends the same) against plain replay of the same journal (verified beforehand, so both sides only
 * re-execute), in alternating rounds of the same run. Issue 15 aims at ≤ 1.5× replay's time.
 */
import { World, replayWorld } from "../../kernel/world/index.js";
import { counterfactualRun } from "../../kernel/world/counterfactual.js";
import { buildWorld } from "./kernel.bench.js";
import type { Bench, Rate } from "./harness.js";

const EVENTS = 10_000;

export const benchmarks: Bench[] = [
  {
    name: "shadow: counterfactual run since genesis vs replay (10,000 events)",
    async run() {
      const dir = await buildWorld("modules/assemblyscript/counter/counter.wasm", EVENTS);
      const w = await World.open(dir);
      // The proposal under test keeps the module, so both sides run the same AssemblyScript code
      // and the ratio is the counterfactual machinery's own cost.
      const next = w.catalog;
      const shadowMs: number[] = [];
      const replayMs: number[] = [];
      let cells = -1;
      for (let round = 0; round < 4; round++) {
        for (const side of round % 2 === 0 ? ["shadow", "replay"] : ["replay", "shadow"]) {
          const t = process.hrtime.bigint();
          if (side === "shadow") cells = (await counterfactualRun(w, next, 0)).cells.length;
          else await replayWorld(dir, { verified: true });
          (side === "shadow" ? shadowMs : replayMs).push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
      await w.close({ snapshot: false });
      if (cells !== 0) throw new Error(`an unchanged manifest should end every cell the same; ${cells} differ`);
      const rate = (label: string, ms: number[]): Rate => ({
        label,
        opsPerSec: (EVENTS * ms.length) / (ms.reduce((a, b) => a + b, 0) / 1000),
      });
      return {
        name: "shadow: counterfactual events/s vs replay events/s (ratio ≥ 0.67 means ≤ 1.5× replay's time)",
        figure: rate("counterfactual run since genesis", shadowMs),
        baseline: rate("replay, verified beforehand", replayMs),
      };
    },
  },
];
