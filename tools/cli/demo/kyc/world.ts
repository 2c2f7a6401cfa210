/**
 * @module The KYC world as the demo and its test run it: worlds/kyc with a fresh compliance
 * officer's key in place of the placeholder approver, the document-check API key in the
 * world's 0600 secrets.json, the built-in adapters, and the harness's clock — plus the
 * application events and the journal reads the attacks share.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeStored } from "../../../../air/cbor/decode.js";
import type { CborObject } from "../../../../air/cbor/value.js";
import { buildCatalogOrThrow } from "../../../../air/loader.js";
import type { AnyDef } from "../../../../air/schemas/defs.js";
import type { KeyPair } from "../../../../kernel/crypto/keys.js";
import { worldPaths } from "../../../../kernel/journal/world-paths.js";
import type { JournalEntry } from "../../../../kernel/journal/index.js";
import { createWorld, sourceFromAirDir, type World } from "../../../../kernel/world/index.js";
import { defaultAdapters } from "../../../../kernel/world/wiring.js";
import { REPO_ROOT } from "../say.js";
import type { KycServices } from "./services.js";

export const APPLICATION = "kyc/Application@1";
export const MODULE = "kyc/Onboarding@1";

/** Creates a KYC world in `dir` whose policy's one approver is `compliance`. */
export async function createKycWorld(
  dir: string,
  services: KycServices,
  compliance: KeyPair,
  clock: () => bigint,
): Promise<World> {
  const src = sourceFromAirDir(join(REPO_ROOT, "worlds/kyc"));
  // The manifest pins each def by hash: the edited policy is referenced by name again.
  const defs = src.catalog.sources.map((d): AnyDef => {
    if (d.$kind === "defpolicy")
      return { ...d, approvers: [{ id: "compliance", public_key: compliance.publicKeyHex }] };
    if (d.$kind === "manifest") return { ...d, policies: d.policies?.map((p) => ({ name: p.name })) };
    return d;
  });
  const catalog = buildCatalogOrThrow([{ file: "worlds/kyc", value: defs }]);
  const world = await createWorld(dir, { catalog, wasm: src.wasm }, { adapters: defaultAdapters(), clock });
  writeFileSync(worldPaths(dir).secrets, JSON.stringify({ doc_api: services.apiKey }), { mode: 0o600 });
  return world;
}

/** An application for `applicant` at the services (country DE, no PEP, a plain note unless given). */
export function application(
  services: KycServices,
  applicant: string,
  amount: number,
  extra: { note?: string; country?: string; pep?: boolean } = {},
): Record<string, unknown> {
  return {
    applicant,
    amount,
    country: extra.country ?? "DE",
    pep: extra.pep ?? false,
    note: extra.note ?? "Opening a business account.",
    doc_url: `${services.origin}/docs/${applicant}`,
    payout_url: `${services.origin}/pay/${applicant}`,
  };
}

/** The cell of `applicant`, as JSON-ish CBOR (undefined when it has none). */
export function onboarding(world: World, applicant: string): CborObject | undefined {
  return world.cellState(MODULE, applicant) as CborObject | undefined;
}

/** A decoded entry. */
export interface Decoded {
  seq: number;
  kind: string;
  body: CborObject;
}

/** Every entry of the world's journal from `from` on, decoded. */
export async function entries(world: World, from = 0): Promise<Decoded[]> {
  const out: Decoded[] = [];
  for await (const e of world.store.iterate(from) as AsyncIterable<JournalEntry>)
    out.push({ seq: e.seq, kind: e.kind, body: decodeStored(e.body) as CborObject });
  return out;
}

/** A gate or approval decision, as the verdict names it. */
export interface Decision {
  seq: number;
  intent: string;
  stage: string;
  decision: string;
  code: string;
  reason: string;
  grant: string | null;
  /** `policy rule N` when a rule decided. */
  rule: string | null;
}

/** The journaled policy decisions from `from` on. */
export async function decisions(world: World, from = 0): Promise<Decision[]> {
  return (await entries(world, from))
    .filter((e) => e.kind === "policy_decision")
    .map((e) => ({
      seq: e.seq,
      intent: String(e.body.intent_id),
      stage: String(e.body.stage),
      decision: String(e.body.decision),
      code: String(e.body.code ?? ""),
      reason: String(e.body.reason ?? ""),
      grant: typeof e.body.grant === "string" ? e.body.grant : null,
      rule:
        typeof e.body.policy === "string" && e.body.rule_index !== null && e.body.rule_index !== undefined
          ? `${e.body.policy} rule ${String(e.body.rule_index)}`
          : null,
    }));
}

/** The journaled receipts from `from` on: intent, kind, status, the cap slot its intent named, and the seq. */
export async function receipts(
  world: World,
  from = 0,
): Promise<{ seq: number; intent: string; kind: string; status: string; slot: string }[]> {
  const all = await entries(world, 0);
  const slots = new Map(
    all.filter((e) => e.kind === "effect_intent").map((e) => [String(e.body.intent_id), String(e.body.cap_slot)]),
  );
  return all
    .filter((e) => e.kind === "effect_receipt" && e.seq >= from)
    .map((e) => {
      const r = e.body.receipt as CborObject;
      const intent = String(e.body.intent_id);
      return {
        seq: e.seq,
        intent,
        kind: String(r.effect_kind),
        status: String(r.status),
        slot: slots.get(intent) ?? "",
      };
    });
}
