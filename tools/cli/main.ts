#!/usr/bin/env node
/**
 * @module The `wk` command line: thin wiring of command groups, each in its own file.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerAir } from "./commands/air.js";
import { registerAudit } from "./commands/audit.js";
import { registerDemo } from "./commands/demo.js";
import { registerEffects } from "./commands/effects.js";
import { registerGovernance } from "./commands/governance.js";
import { registerJournal } from "./commands/journal.js";
import { registerModule } from "./commands/module.js";
import { registerReceipt } from "./commands/receipt.js";
import { registerWorld } from "./commands/world.js";
import { CliExit, EXIT, describeError } from "./io.js";
import { snapshotStateRefs } from "../../kernel/world/world.js";


// A reader that stops early (`wk log --json | head`) closes the pipe: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("wk")
  .description("worldkernel: event-sourced, replayable, signed agent worlds")
  .version(version, "-V, --version", "print the worldkernel version")
  .exitOverride()
  .showHelpAfterError();

registerAir(program);
registerWorld(program);
registerJournal(program, { stateProvider: (store) => snapshotStateRefs(store) });
registerEffects(program, registerReceipt(program));
registerModule(program);
registerGovernance(program);
registerDemo(program);
registerAudit(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (e instanceof CliExit) {
    if (e.message) process.stderr.write(e.message + "\n");
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`error: ${describeError(e)}\n`);
    process.exitCode = EXIT.check_failed;
  }
}
