/**
 * @module Erasure that replays (erasure-v1), as a user meets it: the summarizer fetches a
 * page holding personal data, then `wk erase` of the page body tells the cell that read it,
 * erases what derives from it in the CAS (the prompt the module stored, the completion, the
 * older cell states in snapshots) and warns about the cell whose module did not redact.
 * Afterwards no blob holds the personal data except the live state it warned about, and
 * `wk replay` from genesis, `wk verify` and `wk audit` all succeed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeStored, type CborObject } from "../../air/index.js";
import { ROOT, okAsync, wkAsync } from "./cli-harness.js";
import { startPageServer, type PageServer } from "./page-server.js";

const SECRET = "PERSONAL-4711 Jane Roe, 12 Example Street";

/** Blobs whose bytes contain `needle`, with their hashes. */
function blobsHolding(world: string, needle: string): string[] {
  const db = new Database(join(world, "journal.db"), { readonly: true });
  try {
    const rows = db.prepare("SELECT hash, bytes FROM blobs").all() as { hash: Buffer; bytes: Buffer }[];
    return rows.filter((r) => r.bytes.includes(Buffer.from(needle))).map((r) => `sha256:${r.hash.toString("hex")}`);
  } finally {
    db.close();
  }
}

describe("erasure that replays", () => {
  let server: PageServer;
  let url = "";
  beforeAll(async () => {
    server = await startPageServer(`Customer record.\n${SECRET}\nThe end.\n`);
    url = `${server.url}/page`;
  });
  afterAll(() => server.close());

  it("tells the cell, erases what derives from the blob, warns about unredacted state; replay, verify and audit pass", async () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-erasure-")), "w");
    await okAsync("create", join(ROOT, "worlds/summarizer"), "--world", w, "--json");
    await okAsync(
      "send",
      "demo/SummarizeRequest@1",
      JSON.stringify({ key: "jane", url, source: "export function one(): i32 { return 1; }\n" }),
      "--world",
      w,
      "--json",
    );
    expect(blobsHolding(w, "PERSONAL-4711").length).toBeGreaterThan(1); // the page, and what was made from it

    const log = JSON.parse((await wkAsync("log", "--kind", "effect_receipt", "--json", "--world", w)).stdout) as {
      body: { receipt: { effect_kind: string }; payload: { body_ref: string } };
    }[];
    const page = `sha256:${log.find((e) => e.body.receipt.effect_kind === "http.request")!.body.payload.body_ref}`;
    const erased = await okAsync<{
      seq: number;
      notified: { module: string; key: string }[];
      derived_erased: string[];
      still_holding: { module: string; key: string }[];
    }>("erase", page, "--reason", "GDPR art. 17 request", "--world", w, "--json");
    expect(erased.notified).toEqual([{ module: "demo/Summarizer@1", key: "jane" }]);
    expect(erased.derived_erased.length).toBeGreaterThan(0);
    // The summarizer does not redact on sys/BlobErased@1: its live state may still hold derived text, and wk says so.
    expect(erased.still_holding).toEqual([{ module: "demo/Summarizer@1", key: "jane" }]);
    const text = await wkAsync("erase", "sha256:" + "ab".repeat(32), "--reason", "x", "--world", w);
    expect(text.status).toBe(1); // not a blob of this world

    // The cell was told, in the journal, right after the erasure.
    const events = JSON.parse((await wkAsync("log", "--kind", "event", "--json", "--world", w)).stdout) as {
      seq: number;
      body: { schema: string; origin: CborObject };
    }[];
    expect(
      events.some(
        (e) =>
          e.body.schema === "sys/BlobErased@1" &&
          e.body.origin.kind === "erasure" &&
          Number(e.body.origin.erasure_seq) === erased.seq,
      ),
    ).toBe(true);

    // No blob holds the personal data but the live state it warned about.
    const state = (await okAsync<{ cells: { state_hash: string }[] }>("state", "--world", w)).cells.map(
      (c) => c.state_hash,
    );
    for (const h of blobsHolding(w, "PERSONAL-4711"))
      expect(state, `blob ${h} still holds the erased text`).toContain(h);

    const replay = await okAsync<{ ok: boolean; adopted_steps: unknown[] }>("replay", "--world", w, "--json");
    expect(replay.ok).toBe(true);
    expect(replay.adopted_steps.length).toBeGreaterThan(0);
    expect(await okAsync("replay", "--world", w, "--from-snapshot", "--json")).toMatchObject({ ok: true });
    expect(await okAsync("verify", "--world", w, "--json")).toMatchObject({ ok: true });
    const archive = join(w, "..", "w.audit");
    await okAsync("export", "--audit", archive, "--world", w, "--json");
    expect(await okAsync("audit", archive, "--json")).toMatchObject({ ok: true });
    // The erasure entries say what derived from what.
    const db = new Database(join(w, "journal.db"), { readonly: true });
    const bodies = (
      db.prepare("SELECT body FROM entries WHERE kind = 'erasure' ORDER BY seq").all() as { body: Buffer }[]
    ).map((r) => decodeStored(r.body) as CborObject);
    db.close();
    expect(bodies[0]).toMatchObject({ blob_hash: page });
    expect(bodies.slice(1).every((b) => b.derived_from === page)).toBe(true);
  }, 180_000);
});
