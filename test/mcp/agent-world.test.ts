/**
 * worlds/mcp-agent in process: its agent asks the notes server's `lookup` tool through the gate
 * (`mcp.call`), the answer lands in the cell, and the server's own counts prove what reached
 * it: a question to a server the grant does not name is denied at the gate and never arrives;
 * replay reads the receipt and calls nobody.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, replayWorld } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { agentSource, startNotesServer, type NotesServer } from "./agent-world.js";

let server: NotesServer;
beforeAll(async () => {
  server = await startNotesServer();
}, 60_000);
afterAll(() => server?.stop());

describe("worlds/mcp-agent", () => {
  it("answers from the lookup tool; an unnamed server is denied at the gate; replay calls nobody", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "wk-mcp-agent-")), "w");
    const w = await createWorld(dir, agentSource(server.url), { adapters: defaultAdapters() });
    try {
      await w.send("agent/Ask@1", { key: "r1", server: server.url, question: "How does replay work?" });
      expect(w.cellState("agent/Researcher@1", "r1")).toMatchObject({
        status: "answered",
        answer: "Replay re-executes the journal and reads every effect's result from its signed receipt.",
        asked: 1,
      });
      const other = server.url.replace("/mcp", "/other");
      await w.send("agent/Ask@1", { key: "r2", server: other, question: "gate" });
      const denied = w.cellState("agent/Researcher@1", "r2") as { status: string; error: string };
      expect(denied.status).toBe("denied");
      expect(denied.error).toContain("server_not_allowed");
      expect(await server.counts()).toEqual({ lookup: 1 });
      const root = w.stateRefs().state_root;
      await w.close();
      expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
      expect(await server.counts()).toEqual({ lookup: 1 });
    } finally {
      await w.close().catch(() => {});
    }
  }, 120_000);
});
