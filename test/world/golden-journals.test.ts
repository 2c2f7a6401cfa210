/**
 * @module Golden journals: worlds recorded by an earlier kernel (test/fixtures/journals,
 * made by tools/dev/record-journals.ts) must replay to their recorded state root, byte for
 * byte, and verify. A change that breaks this changes replay semantics: it needs a new
 * kernel flag and new recordings, never a quiet edit.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { worldPaths } from "../../kernel/journal/index.js";
import { replayWorld, verifyWorld } from "../../kernel/world/index.js";

const FIXTURES = new URL("../fixtures/journals/", import.meta.url).pathname;

describe("golden journals replay to their recorded state roots", () => {
  for (const scenario of readdirSync(FIXTURES).sort()) {
    it(scenario, async () => {
      // Work on a copy so replay can never touch the fixture. The fixtures hold no keys at all:
      // replay needs only the public world key from genesis.
      const dir = join(mkdtempSync(join(tmpdir(), "wk-golden-")), scenario);
      cpSync(join(FIXTURES, scenario), dir, { recursive: true });
      const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as { state_root: string };
      // Format 1 worlds closed with a snapshot after their last checkpoint; format 2 worlds end sealed.
      const v = await verifyWorld(worldPaths(dir).journal, { requireSealedHead: !scenario.endsWith("_v1") });
      expect(v, JSON.stringify(v)).toMatchObject({ ok: true });
      expect(v.checkpoints).toBeGreaterThan(0);
      const r = await replayWorld(dir);
      expect(r.divergence ?? null).toBeNull();
      expect(r).toMatchObject({ ok: true, state_root: expected.state_root });
    });
  }
});
