/**
 * @module The CLI's own tables agree with its commands: docs/cli.md is what the commands
 * print for --help, and `wk --help`'s listing (commands/groups.ts) names exactly the
 * top-level commands each group registers, with their descriptions.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMAND_GROUPS } from "../../tools/cli/commands/groups.js";
import { cliReference } from "../../tools/cli/reference.js";

describe("the CLI reference and the command table", () => {
  it("docs/cli.md is generated from the commands (run `npm run docs:cli` after changing one)", async () => {
    const committed = readFileSync(new URL("../../docs/cli.md", import.meta.url), "utf8");
    expect(committed, "docs/cli.md is stale: run npm run docs:cli").toBe(await cliReference());
  });

  it("each group lists exactly the top-level commands it registers, with their descriptions", async () => {
    const seen = new Set<string>();
    for (const g of COMMAND_GROUPS) {
      const p = new Command();
      await g.load(p);
      const registered = Object.fromEntries(p.commands.map((c) => [c.name(), c.description()]));
      expect(registered).toEqual(g.commands);
      for (const name of Object.keys(registered)) {
        expect(seen.has(name), `${name} is registered by two groups`).toBe(false);
        seen.add(name);
      }
    }
  });
});
