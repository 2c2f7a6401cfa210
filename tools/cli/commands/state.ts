/**
 * @module `wk state`: the world's current cell states as JSON. It reads the sealed head's
 * snapshot (kernel/world/state-view.ts) and imports nothing heavier, so it answers in about
 * Node's start-up time; a world whose head is not sealed (a crash left steps after the last
 * snapshot) is opened instead, which replays the tail.
 */
import type { Command } from "commander";
import { decodeStored } from "../../../air/cbor/decode.js";
import { cellKeyText } from "../../../kernel/core/cells.js";
import { readSealedState, type CellView, type StateView } from "../../../kernel/world/state-view.js";
import { CliExit, EXIT, printJson, worldDir } from "../io.js";

/** The view of an open world, for a head that is not sealed. */
async function openedState(dir: string): Promise<StateView> {
  const { withWorld, stateJson } = await import("./world.js");
  return withWorld(
    dir,
    async (w) => ({
      stateRoot: w.state.cells.stateRoot(),
      manifestHash: w.catalog.manifestHash,
      checkpointSeq: -1,
      cells: w.state.cells
        .list()
        .map((c): CellView => ({ module: c.module, key: c.key, hash: c.hash, bytes: c.bytes })),
      modules: [...w.catalog.modules.keys()],
      json: (module, value) => stateJson(w, module, value),
    }),
    { snapshot: false },
  );
}

/** One cell's state as JSON (null when its bytes were erased). */
function cellJson(view: StateView, c: CellView): unknown {
  return c.bytes.length === 0 ? null : view.json(c.module, decodeStored(c.bytes));
}

/** Registers `wk state`. */
export function registerState(program: Command): void {
  program
    .command("state [module] [key]")
    .description("current state as JSON: every cell, one module's cells, or one cell")
    .option("--world <dir>", "world directory")
    .option("--json", "errors as JSON too (the state is always JSON)")
    .action(async (module: string | undefined, key: string | undefined, opts: { world?: string }) => {
      const dir = worldDir(opts.world);
      const view = readSealedState(dir) ?? (await openedState(dir));
      if (module && !view.modules.includes(module))
        throw new CliExit(EXIT.check_failed, `no module ${module} (modules: ${view.modules.join(", ")})`, {
          code: "cli.no_module",
        });
      const cells = view.cells.filter(
        (c) => (!module || c.module === module) && (key === undefined || cellKeyText(c.key) === key),
      );
      if (module && key !== undefined) {
        if (cells.length === 0)
          throw new CliExit(EXIT.check_failed, `no cell ${module} / ${key}`, {
            code: "cli.no_cell",
            hint: `list the module's cells with: wk state ${module}`,
          });
        printJson(cellJson(view, cells[0]!));
        return;
      }
      printJson({
        state_root: view.stateRoot,
        cells: cells.map((c) => ({
          module: c.module,
          key: cellKeyText(c.key),
          state_hash: c.hash,
          state: cellJson(view, c),
        })),
      });
    });
}
