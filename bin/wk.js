#!/usr/bin/env node
// The `wk` command: plain JavaScript over the compiled CLI in dist/ (no loader, no second
// process). `--version` answers before anything else loads: it is the floor of start-up time.
import { readFileSync } from "node:fs";

// Node 20 flags WASI (used by the WASM runtime) as experimental on every run; users cannot act on it.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`${w.name}: ${w.message}\n`);
});

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
  process.stdout.write(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version + "\n");
} else {
  const cli = new URL("../dist/tools/cli/main.js", import.meta.url);
  try {
    await import(cli.href);
  } catch (e) {
    if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.message).includes("dist/tools/cli/main.js")) throw e;
    process.stderr.write(
      "error: cli.not_built: this checkout has no dist/ yet\nhint: run `npm run build:dist` (npm install does it), or `npm run wk -- …` to run from the sources\n",
    );
    process.exitCode = 2;
  }
}
