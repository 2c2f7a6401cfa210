/**
 * @module Writes docs/cli.md from the commands (see tools/cli/reference.ts).
 * Run: npm run docs:cli
 */
import { writeFileSync } from "node:fs";
import { cliReference } from "../cli/reference.js";

writeFileSync(new URL("../../docs/cli.md", import.meta.url), await cliReference());
