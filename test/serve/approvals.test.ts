/**
 * @module Approvals through the `wk serve` API against a real server process, signed the way
 * a browser signs (noble's ed25519 over the server's `message_hex`; the server never sees a
 * secret key): held intents of the fetcher world (announced on the stream, refused when the
 * signature, key or body is wrong — writing nothing and fetching nothing — then allowed, so
 * the local HTTP server gets exactly one hit and the receipt's bundle verifies offline, or
 * denied), and proposals of the governed counter (approved, then applied by an admin).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdForApproval, writeFetcherAir } from "../world/fixtures/fetcher.js";
import { generateKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { createWorld, propose, shadow, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import type { WorldkernelClient } from "../../tools/serve/client.js";
import type { Role } from "../../tools/serve/tokens.js";
import { fuelPatch, worldWith } from "../world/fixtures/governed-counter.js";
import {
  clients,
  killLeftovers,
  openStream,
  poll,
  raw,
  startServe,
  wk,
  writeTokens,
  type RoleTokens,
  type Served,
} from "./server-fixture.js";

/** A signature as an approver's browser makes it: ed25519 over the exact bytes the server asked for. */
const browserSign = (messageHex: string, key: KeyPair): string =>
  Buffer.from(ed25519.sign(Buffer.from(messageHex, "hex"), key.secretKeyBytes())).toString("hex");

/** A coded refusal of `p` (status and error body). */
async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string; path?: string }> {
  const e = (await p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (x: unknown) => x,
  )) as { status: number; code: string; path?: string };
  return { status: e.status, code: e.code, ...(e.path === undefined ? {} : { path: e.path }) };
}

afterAll(() => killLeftovers());

describe("held intents through the API", () => {
  const hits: string[] = [];
  const target = createServer((req, res) => {
    hits.push(String(req.url));
    res.end("hello");
  });
  const approver = generateKeyPair();
  const stranger = generateKeyPair();
  let dir = "";
  let s: Served;
  let tokens: RoleTokens;
  let c: Record<Role, WorldkernelClient>;
  let id = "";
  let url = "";
  let held: string[] = [];
  const height = async () => (await c.read.journal(id, { limit: 1 })).height;
  const w = (rest: string) => `${s.url}/v1/worlds/${id}${rest}`;

  beforeAll(async () => {
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
    const base = mkdtempSync(join(tmpdir(), "wk-serve-held-"));
    const air = writeFetcherAir(join(base, "air"), holdForApproval(approver.publicKeyHex));
    dir = join(base, "w");
    const world = await createWorld(dir, sourceFromAirDir(air), {
      adapters: defaultAdapters(),
    });
    await world.close();
    const t = writeTokens(base);
    tokens = t.tokens;
    s = await startServe([dir], t.file);
    c = clients(s.url, tokens);
    id = s.worlds[0]!;
  });
  afterAll(() => void target.close());

  it("announces held intents on the stream and lists them; nothing is fetched", async () => {
    const stream = await openStream(w(`/stream?from=${await height()}`), tokens.read);
    await c.ingest.send(id, { schema: "demo/Fetch@1", value: { key: "a", url: `${url}/allowed` } });
    await c.ingest.send(id, { schema: "demo/Fetch@1", value: { key: "b", url: `${url}/denied` } });
    const got = await stream.until((_, all) => all.filter((e) => e.event === "approval").length === 2);
    stream.close();
    const approvals = got
      .filter((e) => e.event === "approval")
      .map((e) => JSON.parse(e.data) as { kind: string; id: string; seq: number });
    const entries = new Map(
      got.filter((e) => e.event === "entry").map((e) => [Number(e.id), JSON.parse(e.data) as Record<string, never>]),
    );
    for (const a of approvals) {
      expect(a.kind).toBe("intent");
      // Announced right after the gate's decision entry that holds it.
      expect(entries.get(a.seq)).toMatchObject({
        kind: "policy_decision",
        body: { intent_id: a.id, decision: "require_approval" },
      });
    }
    const list = await c.read.heldIntents(id);
    expect(list.map((h) => h.intent_id)).toEqual(approvals.map((a) => a.id));
    expect(list.every((h) => h.kind === "http.request" && h.module !== "")).toBe(true);
    held = list.map((h) => h.intent_id);
    expect((await c.read.info(id)).pending).toMatchObject({ pendingIntents: 2, pendingApprovals: 2 });
    expect(await c.read.metrics()).toMatch(/^wk_pending_approvals\{[^}]*\} 2$/m);
    expect(hits).toEqual([]);
  });

  it("refuses a wrong signature, key, approver, body or intent with a typed error, writing nothing", async () => {
    const [intent] = held;
    const before = await height();
    const allow = await c.approve.heldIntentMessage(id, intent!, "allow");
    expect(allow.purpose).toBe("effect_approval");
    const deny = await c.approve.heldIntentMessage(id, intent!, "deny");
    expect(deny.message_hex).not.toBe(allow.message_hex);
    expect((await raw(w(`/intents/${intent}/approval-message`), tokens.read)).status).toBe(403);
    // The default decision is allow.
    expect((await raw(w(`/intents/${intent}/approval-message`), tokens.approve)).json).toEqual(allow);

    const pk = approver.publicKeyHex;
    const good = browserSign(allow.message_hex, approver);
    const cases: { name: string; body: unknown; status: number; code: string; path?: string }[] = [
      {
        name: "no signature",
        body: { decision: "allow", public_key: pk },
        status: 400,
        code: "http.bad_body",
        path: "$.signature",
      },
      {
        name: "bad decision",
        body: { decision: "maybe", public_key: pk, signature: good },
        status: 400,
        code: "http.bad_body",
        path: "$.decision",
      },
      {
        name: "unknown field",
        body: { decision: "allow", public_key: pk, signature: good, x: 1 },
        status: 400,
        code: "http.bad_body",
        path: "$",
      },
      {
        name: "key not hex",
        body: { decision: "allow", public_key: "zz", signature: good },
        status: 400,
        code: "crypto.bad_key",
        path: "$.public_key",
      },
      {
        name: "signature too short",
        body: { decision: "allow", public_key: pk, signature: "ab" },
        status: 400,
        code: "crypto.bad_signature",
        path: "$.signature",
      },
      // Signed over "deny" but sent as "allow": the signature does not hold for what is asked.
      {
        name: "signature of the other decision",
        body: { decision: "allow", public_key: pk, signature: browserSign(deny.message_hex, approver) },
        status: 400,
        code: "crypto.bad_signature",
        path: "$.signature",
      },
      {
        name: "signature by another key",
        body: { decision: "allow", public_key: pk, signature: browserSign(allow.message_hex, stranger) },
        status: 400,
        code: "crypto.bad_signature",
        path: "$.signature",
      },
      // Properly signed, by a key the policy does not name.
      {
        name: "not an approver",
        body: {
          decision: "allow",
          public_key: stranger.publicKeyHex,
          signature: browserSign(allow.message_hex, stranger),
        },
        status: 403,
        code: "kernel.bad_approval",
      },
    ];
    for (const k of cases) {
      const res = await raw(w(`/intents/${intent}/decision`), tokens.approve, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(k.body),
      });
      expect(res.status, `${k.name}: ${res.text}`).toBe(k.status);
      expect(res.json, k.name).toMatchObject({ error: { code: k.code, ...(k.path ? { path: k.path } : {}) } });
      expect(await height(), `${k.name} wrote nothing`).toBe(before);
    }
    const notJson = await raw(w(`/intents/${intent}/decision`), tokens.approve, { method: "POST", body: "{" });
    expect(notJson.json).toMatchObject({ error: { code: "air.invalid_json", path: "$" } });
    // A valid signature over an intent that is not held.
    const other = await c.approve.heldIntentMessage(id, "no-such-intent", "allow");
    expect(
      await refusal(
        c.approve.decide(id, "no-such-intent", {
          decision: "allow",
          public_key: pk,
          signature: browserSign(other.message_hex, approver),
        }),
      ),
    ).toMatchObject({ status: 404, code: "kernel.unknown_intent" });
    // The read role may not decide, even with a good signature.
    expect(
      await refusal(c.read.decide(id, intent!, { decision: "allow", public_key: pk, signature: good })),
    ).toMatchObject({ status: 403, code: "auth.forbidden" });
    expect(await height()).toBe(before);
    expect(await c.read.heldIntents(id)).toHaveLength(2);
    expect(hits).toEqual([]);
  });

  it("an allowed intent is fetched once and its receipt's bundle verifies offline; a denied one is not fetched", async () => {
    const [allowed, denied] = held as [string, string];
    const msg = await c.approve.heldIntentMessage(id, allowed, "allow");
    const r = await c.approve.decide(id, allowed, {
      decision: "allow",
      public_key: approver.publicKeyHex,
      signature: browserSign(msg.message_hex, approver),
    });
    expect(r).toMatchObject({ intent_id: allowed, decision: "allow" });
    const row = await poll(
      async () => (await c.read.receipts(id)).find((x) => x.intent_id === allowed && x.receipt !== null),
      "the allowed intent's receipt",
    );
    expect(row.receipt!.status).toBe("ok");
    expect(hits).toEqual(["/allowed"]);

    const receipt = await c.read.receipt(id, allowed);
    expect(receipt).toMatchObject({ seq: row.receipt!.seq, kind: "effect_receipt" });
    const bundle = await c.read.bundle(id, allowed, { payload: true });
    const file = join(mkdtempSync(join(tmpdir(), "wk-serve-bundle-")), "bundle.json");
    writeFileSync(file, JSON.stringify(bundle));
    const v = wk("receipt", "verify", file, "--json");
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true });

    const dmsg = await c.approve.heldIntentMessage(id, denied, "deny");
    await c.admin.decide(id, denied, {
      decision: "deny",
      public_key: approver.publicKeyHex,
      signature: browserSign(dmsg.message_hex, approver),
    });
    const drow = await poll(
      async () => (await c.read.receipts(id)).find((x) => x.intent_id === denied && x.receipt !== null),
      "the denied intent's receipt",
    );
    expect(drow.receipt!.status).toBe("denied");
    expect(await c.read.heldIntents(id)).toEqual([]);
    // Deciding again: the intent is no longer held.
    expect(
      await refusal(
        c.approve.decide(id, allowed, {
          decision: "allow",
          public_key: approver.publicKeyHex,
          signature: browserSign(msg.message_hex, approver),
        }),
      ),
    ).toMatchObject({ status: 404, code: "kernel.unknown_intent" });
    expect(hits).toEqual(["/allowed"]);

    const metrics = await c.read.metrics();
    expect(metrics).toMatch(/^wk_gate_decisions_total\{[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^wk_effect_duration_seconds_count\{[^}]*status="ok"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^wk_pending_approvals\{[^}]*\} 0$/m);
  });

  it("drains on SIGTERM; the journal verifies and nothing is fetched again", async () => {
    const state = await c.read.state(id);
    const stopped = await s.stop();
    expect(stopped.code, s.stderr()).toBe(0);
    const v = wk("verify", "--world", dir, "--json");
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(wk("state", "--world", dir).stdout)).toEqual(state);
    expect(hits).toEqual(["/allowed"]);
  });
});

describe("proposals through the API", () => {
  const approver = generateKeyPair();
  const stranger = generateKeyPair();
  const proposer = generateKeyPair();
  let dir = "";
  let s: Served;
  let tokens: RoleTokens;
  let c: Record<Role, WorldkernelClient>;
  let id = "";
  let clean = "";
  let failing = "";
  let baseManifest = "";
  let newManifest = "";
  const height = async () => (await c.read.journal(id, { limit: 1 })).height;

  beforeAll(async () => {
    // Filed and shadow-run with the library, world closed, before the server owns it.
    const gw = await worldWith([approver]);
    dir = gw.dir;
    baseManifest = gw.w.catalog.manifestHash;
    failing = (await propose(gw.w, fuelPatch(baseManifest, gw.src.mod, 1), { proposer })).proposalId;
    await shadow(gw.w, failing, { window: 50 });
    const p = await propose(gw.w, fuelPatch(baseManifest, gw.src.mod, 50_000_000), { proposer });
    clean = p.proposalId;
    newManifest = p.newManifestHash;
    await shadow(gw.w, clean, { window: 50 });
    await gw.w.close();
    const t = writeTokens(join(dir, ".."));
    tokens = t.tokens;
    s = await startServe([dir], t.file);
    c = clients(s.url, tokens);
    id = s.worlds[0]!;
  });

  it("lists proposals with their shadow reports, and the stream announces them", async () => {
    const list = await c.read.proposals(id);
    expect(list.map((p) => p.proposal_id)).toEqual([failing, clean]);
    expect(list.every((p) => p.status === "shadowed" && p.threshold === 1 && p.approvers.length === 0)).toBe(true);
    expect(list[0]!.failures).toBeGreaterThan(0);
    expect(list[1]!.failures).toBe(0);
    expect(await c.read.proposal(id, clean)).toEqual(list[1]);
    const stream = await openStream(`${s.url}/v1/worlds/${id}/stream?from=0`, tokens.read);
    const got = await stream.until((_, all) => all.filter((e) => e.event === "approval").length === 2);
    stream.close();
    const announced = got
      .filter((e) => e.event === "approval")
      .map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(announced.map((a) => [a.kind, a.id])).toEqual([
      ["proposal", failing],
      ["proposal", clean],
    ]);
    for (const a of announced) {
      const entry = got.find((e) => e.event === "entry" && Number(e.id) === a.seq)!;
      expect(JSON.parse(entry.data)).toMatchObject({ kind: "shadow_report", body: { proposal_id: a.id } });
    }
  });

  it("refuses bad approvals and early applies with typed errors, writing nothing", async () => {
    const before = await height();
    const msg = await c.approve.approvalMessage(id, clean);
    expect(msg.purpose).toBe("approval");
    expect((await raw(`${s.url}/v1/worlds/${id}/proposals/${clean}/approval-message`, tokens.read)).status).toBe(403);
    const pk = approver.publicKeyHex;
    expect(
      await refusal(
        c.approve.approve(id, clean, { public_key: pk, signature: browserSign(msg.message_hex, stranger) }),
      ),
    ).toMatchObject({ status: 400, code: "crypto.bad_signature", path: "$.signature" });
    expect(
      await refusal(
        c.approve.approve(id, clean, {
          public_key: stranger.publicKeyHex,
          signature: browserSign(msg.message_hex, stranger),
        }),
      ),
    ).toMatchObject({ status: 403, code: "kernel.bad_approval" });
    // The proposer is no approver either (and may never approve its own patch).
    expect(
      await refusal(
        c.approve.approve(id, clean, {
          public_key: proposer.publicKeyHex,
          signature: browserSign(msg.message_hex, proposer),
        }),
      ),
    ).toMatchObject({ status: 403, code: "kernel.bad_approval" });
    const bad = await raw(`${s.url}/v1/worlds/${id}/proposals/${clean}/approvals`, tokens.approve, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        public_key: pk,
        signature: browserSign(msg.message_hex, approver),
        accept_failures: "yes",
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: "http.bad_body", path: "$.accept_failures" } });
    // A report with failing steps is refused unless the approver accepts the failures (another message).
    const fmsg = await c.approve.approvalMessage(id, failing);
    expect(
      await refusal(
        c.approve.approve(id, failing, { public_key: pk, signature: browserSign(fmsg.message_hex, approver) }),
      ),
    ).toMatchObject({ status: 409, code: "governance.failed_shadow" });
    expect((await c.approve.approvalMessage(id, failing, { acceptFailures: true })).message_hex).not.toBe(
      fmsg.message_hex,
    );
    // Apply: admin only, and only once approved.
    expect(await refusal(c.approve.apply(id, clean))).toMatchObject({ status: 403, code: "auth.forbidden" });
    expect(await refusal(c.admin.apply(id, clean))).toMatchObject({ status: 409, code: "governance.not_approved" });
    expect(await refusal(c.admin.apply(id, "no-such-proposal"))).toMatchObject({
      status: 404,
      code: "governance.unknown_proposal",
    });
    expect(await refusal(c.approve.approvalMessage(id, "no-such-proposal"))).toMatchObject({ status: 404 });
    expect(await height()).toBe(before);
    expect((await c.read.proposals(id)).map((p) => p.status)).toEqual(["shadowed", "shadowed"]);
  });

  it("an approval signed in the browser, then an admin's apply, swaps the manifest", async () => {
    const msg = await c.approve.approvalMessage(id, clean);
    const r = await c.approve.approve(id, clean, {
      public_key: approver.publicKeyHex,
      signature: browserSign(msg.message_hex, approver),
    });
    expect(r.proposal_id).toBe(clean);
    expect(await c.read.proposal(id, clean)).toMatchObject({ status: "approved", approvers: [approver.publicKeyHex] });
    const applied = await c.admin.apply(id, clean);
    expect(JSON.stringify(applied)).toContain(newManifest);
    expect(await c.read.proposal(id, clean)).toMatchObject({ status: "applied" });
    expect((await c.read.worlds())[0]!.manifest_hash).toBe(newManifest);
    expect(await refusal(c.admin.apply(id, clean))).toMatchObject({ status: 409, code: "governance.already_applied" });
    // The world still counts after the swap.
    expect(await c.ingest.send(id, { schema: "demo/CounterEvent@1", value: { key: "a", by: 1 } })).toMatchObject({
      steps: 1,
      failures: 0,
    });
    expect(await c.read.verify(id)).toMatchObject({ ok: true });
  });

  it("a denial signed in the browser vetoes the failing proposal; a bad one writes nothing", async () => {
    const before = await height();
    const reason = "fails every step of the counter";
    expect(await refusal(c.approve.denialMessage(id, failing, " "))).toMatchObject({
      status: 400,
      code: "http.bad_query",
    });
    expect(await refusal(c.read.denialMessage(id, failing, reason))).toMatchObject({
      status: 403,
      code: "auth.forbidden",
    });
    const msg = await c.approve.denialMessage(id, failing, reason);
    /** A denial of the failing proposal: `messageHex` signed by `key`, sent with `as`'s token. */
    const deny = (key: KeyPair, messageHex: string, as: WorldkernelClient = c.approve) =>
      as.deny(id, failing, { public_key: key.publicKeyHex, signature: browserSign(messageHex, key), reason });
    // Signed over another reason, by a stranger, or with the read role: refused, nothing written.
    const other = await c.approve.denialMessage(id, failing, "another reason");
    expect(await refusal(deny(approver, other.message_hex))).toMatchObject({
      status: 400,
      code: "crypto.bad_signature",
    });
    expect(await refusal(deny(stranger, msg.message_hex))).toMatchObject({ status: 403, code: "kernel.bad_approval" });
    expect(await refusal(deny(approver, msg.message_hex, c.read))).toMatchObject({
      status: 403,
      code: "auth.forbidden",
    });
    expect(await height()).toBe(before);

    const denied = await deny(approver, msg.message_hex);
    expect(denied.seq).toBe(before);
    expect(await c.read.proposal(id, failing)).toMatchObject({ status: "denied" });
    // A veto: no approval, apply or second denial after it.
    const fmsg = await refusal(c.approve.approvalMessage(id, failing, { acceptFailures: true }));
    expect(fmsg).toMatchObject({ status: 409, code: "governance.denied" });
    expect(await refusal(deny(approver, msg.message_hex))).toMatchObject({ status: 409 });
    expect(await refusal(c.admin.apply(id, failing))).toMatchObject({ status: 409 });
    expect(await height()).toBe(before + 1);
    expect(await c.read.verify(id)).toMatchObject({ ok: true });
  });

  it("drains on SIGTERM; the journal verifies across the apply", async () => {
    const state = await c.read.state(id);
    expect((await s.stop()).code, s.stderr()).toBe(0);
    const v = wk("verify", "--world", dir, "--json");
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(wk("state", "--world", dir).stdout)).toEqual(state);
    expect(baseManifest).not.toBe(newManifest);
  });
});
