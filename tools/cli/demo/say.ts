/**
 * @module Output helpers for the demo: numbered steps and indented lines, plain text so
 * the story reads the same in a terminal and in CI logs.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (for the example worlds and modules). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Prints a step heading. */
export function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

/** Prints an indented line. */
export function say(text: string): void {
  process.stdout.write(`   ${text}\n`);
}
