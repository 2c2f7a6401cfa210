/**
 * @module Output helpers for the demo: numbered steps and indented lines, plain text so
 * the story reads the same in a terminal and in CI logs.
 */
import { packageRoot } from "../../../kernel/packages.js";

/** The worldkernel package folder (for the example worlds and modules). */
export const REPO_ROOT = packageRoot();

/** Prints a step heading. */
export function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

/** Prints an indented line. */
export function say(text: string): void {
  process.stdout.write(`   ${text}\n`);
}
