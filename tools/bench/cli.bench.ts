/**
 * @module CLI start-up, the time a user waits for every `wk` command: `wk --version` and
 * `wk --help` beside `node -e 0` (the floor: Node's own start-up), and `wk state` on a
 * 10,000-event world beside `wk --version`, all in alternating slices of the same run.
 * It runs the package's real entry point, bin/wk.js over a freshly built dist/.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { packageRoot } from "../../kernel/packages.js";
import { compare, type Bench } from "./harness.js";

const ROOT = packageRoot();
const BIN = join(ROOT, "bin/wk.js");

function run(args: string[]): () => void {
  return () => {
    const r = spawnSync(process.execPath, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  };
}

const opts = { rounds: 6, sliceMs: 1500, warmup: 2 };

export const benchmarks: Bench[] = [
  {
    name: "cli: start-up",
    async run() {
      const built = spawnSync(process.execPath, [join(ROOT, "tools/build/dist.mjs")], { stdio: "inherit" });
      if (built.status !== 0) throw new Error("building dist/ failed");
      const base = mkdtempSync(join(tmpdir(), "wk-bench-cli-"));
      try {
        const dir = join(base, "w");
        const w = await createWorld(dir, sourceFromAirDir(join(ROOT, "worlds/counter")));
        for (let i = 0; i < 10_000; i += 500)
          await w.sendMany(
            Array.from({ length: 500 }, (_, j) => ({
              schema: "demo/CounterEvent@1",
              json: { key: `k${(i + j) % 50}`, by: 1 },
            })),
          );
        await w.close();
        const node = { label: "node -e 0", fn: run(["-e", "0"]) };
        const [version, node1] = compare({ label: "wk --version", fn: run([BIN, "--version"]) }, node, opts);
        const [help, node2] = compare({ label: "wk --help", fn: run([BIN, "--help"]) }, node, opts);
        const [state, version2] = compare(
          { label: "wk state (10,000 events, 50 cells)", fn: run([BIN, "state", "--world", dir]) },
          { label: "wk --version", fn: run([BIN, "--version"]) },
          opts,
        );
        const ms = (r: { opsPerSec: number }) => `${(1000 / r.opsPerSec).toFixed(0)} ms`;
        return [
          {
            name: "cli: wk --version vs node -e 0 (runs/s; target ≥ 0.5)",
            figure: version,
            baseline: node1,
            extra: { wk: ms(version), node: ms(node1) },
          },
          {
            name: "cli: wk --help vs node -e 0 (runs/s; target ≥ 0.5)",
            figure: help,
            baseline: node2,
            extra: { wk: ms(help), node: ms(node2) },
          },
          {
            name: "cli: wk state on 10,000 events vs wk --version (runs/s; target ≥ 0.5)",
            figure: state,
            baseline: version2,
            extra: { state: ms(state), version: ms(version2) },
          },
        ];
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  },
];
