/**
 * @module Timers on time in a real `wk serve`: an intent `timer.set` due a moment from now is
 * dispatched by the server itself when it falls due, with no request to prompt it, and never
 * before (its receipt's finish is at or after the due time); a timer due in an hour stays
 * pending, across a drain and a restart. Nothing here measures how late a timer fires.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { createWorld } from "../../kernel/world/index.js";
import { defaultAdapters, defaultGateHooks } from "../../kernel/world/wiring.js";
import { ROOT } from "../world/cli-harness.js";
import { emitEvent, emitterSource, TIMER_SPEC } from "../world/fixtures/emitter.js";

const TOKEN = "timer-test-token-0123456789";
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Starts `wk serve` on `dir`; resolves with its URL and world id once it listens. */
async function serve(dir: string, tokens: string): Promise<{ child: ChildProcess; url: string; id: string }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "bin/wk.js"), "serve", "--world", dir, "--port", "0", "--tokens", tokens],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  children.push(child);
  for await (const line of createInterface({ input: child.stdout! })) {
    const r = JSON.parse(line) as { event: string; url: string; worlds: string[] };
    if (r.event === "listening") return { child, url: r.url, id: r.worlds[0]! };
  }
  throw new Error("wk serve exited before it listened");
}

const stop = async (child: ChildProcess) => {
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
};

describe("wk serve fires timers at their time", () => {
  it("dispatches a due timer by itself, never early; a later one waits across a restart", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-serve-timers-"));
    const dir = join(base, "w");
    await (
      await createWorld(dir, await emitterSource(TIMER_SPEC), {
        adapters: defaultAdapters(),
        hooks: defaultGateHooks(),
      })
    ).close();
    const tokens = join(base, "tokens.json");
    writeFileSync(tokens, JSON.stringify({ tokens: [{ token: TOKEN, roles: ["admin"] }] }), { mode: 0o600 });
    const auth = { authorization: `Bearer ${TOKEN}` };

    let { child, url, id } = await serve(dir, tokens);
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

    await stop(child);
    ({ child, url, id } = await serve(dir, tokens));
    expect((await get<{ pending: { pendingIntents: number } }>("")).pending.pendingIntents).toBe(1);
    expect((await get<Rows>("/receipts")).intents[1]!.receipt).toBeNull();
    await stop(child);
  }, 120_000);
});
