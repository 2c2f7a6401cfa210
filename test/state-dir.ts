/**
 * @module A vitest setup file: each test file gets its own state directory (anchor logs) under
 * the `WK_STATE_DIR` vitest.config.ts sets inside the repository, inherited by the `wk` it runs,
 * so copies of one world in different test files never share an anchor log, and no test writes
 * to the real home. Removed when the file's tests end.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";

const base = process.env.WK_STATE_DIR;
if (base === undefined) throw new Error("vitest.config.ts sets WK_STATE_DIR; run the tests with vitest");
mkdirSync(base, { recursive: true });
const dir = mkdtempSync(join(base, "file-"));
process.env.WK_STATE_DIR = dir;

afterAll(() => rmSync(dir, { recursive: true, force: true }));
