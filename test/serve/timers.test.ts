/**
 * @module Timers on time in a real `wk serve`: an intent `timer.set` due a moment from now is
 * dispatched by the server itself when it falls due, with no request to prompt it, and never
 * before (its receipt's finish is at or after the due time); a timer due in an hour stays
 * pending, across a drain and a restart. Nothing here measures how late a timer fires.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createWorld } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { emitEvent, emitterSource, TIMER_SPEC } from "../world/fixtures/emitter.js";
import { killLeftovers, startServe, writeTokens } from "./server-fixture.js";

afterAll(killLeftovers);

describe("wk serve fires timers at their time", () => {
  it("dispatches a due timer by itself, never early; a later one waits across a restart", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-serve-timers-"));
    const dir = join(base, "w");
    await (
      await createWorld(dir, await emitterSource(TIMER_SPEC), {
        adapters: defaultAdapters(),
      })
    ).close();
    const { file: tokens, tokens: roles } = writeTokens(base);
    const auth = { authorization: `Bearer ${roles.admin}` };

    let server = await startServe([dir], tokens);
    let [url, id] = [server.url, server.worlds[0]!];
    const get = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${url}/v1/worlds/${id}${path}`, { headers: auth })).json()) as T;
    const dueAt = BigInt(Date.now() + 300) * 1_000_000n;
    const later = BigInt(Date.now() + 3_600_000) * 1_000_000n;
    for (const at of [dueAt, later]) {
      const r = await fetch(`${url}/v1/worlds/${id}/events`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          schema: "t/Emit@1",
          value: emitEvent("timer.set", "ok", { deliver_at_ns: at, key: null }),
        }),
      });
      expect(r.status, await r.clone().text()).toBe(201);
    }
    type Rows = { intents: { intent_id: string; receipt: { seq: number; status: string } | null }[] };
    // Reads never dispatch: only the server's own timer can settle the first intent.
    let rows = await get<Rows>("/receipts");
    for (let i = 0; i < 1200 && rows.intents[0]?.receipt == null; i++) {
      await new Promise((r) => setTimeout(r, 25));
      rows = await get<Rows>("/receipts");
    }
    expect(rows.intents).toHaveLength(2);
    expect(rows.intents[0]!.receipt).toMatchObject({ status: "ok" });
    expect(rows.intents[1]!.receipt).toBeNull();
    const receipt = await get<{ body: { receipt: { finished_ns: string } } }>(
      `/receipts/${rows.intents[0]!.intent_id}`,
    );
    expect(BigInt(receipt.body.receipt.finished_ns) >= dueAt, "a timer never fires before its time").toBe(true);
    expect((await get<{ pending: { pendingIntents: number } }>("")).pending.pendingIntents).toBe(1);

    expect((await server.stop()).code).toBe(0);
    server = await startServe([dir], tokens);
    [url, id] = [server.url, server.worlds[0]!];
    expect((await get<{ pending: { pendingIntents: number } }>("")).pending.pendingIntents).toBe(1);
    expect((await get<Rows>("/receipts")).intents[1]!.receipt).toBeNull();
    expect((await server.stop()).code).toBe(0);
  }, 120_000);
});
