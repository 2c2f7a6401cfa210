/**
 * @module The KYC risk scorer (kyc/Risk@1, keyed by applicant): a `kyc/Application@1
 * {applicant, amount, country, pep, note}` gets a score from fixed factors (amount bands, a
 * high-risk country, a politically exposed person) and a band (low < 30 ≤ medium < 60 ≤
 * high), kept in `kyc/RiskState@1`. It records its reasoning as the step's annotation
 * (ann-v1): the trigger, each factor with its points, the score, the band and the
 * applicant's note, so `wk explain` can say why an application was scored as it was.
 */
import { Cbor, Ctx, Event, Kind, StepResult, runStep } from "../sdk/index";

const HIGH_RISK = ["KP", "IR", "SY", "MM"];

function factor(name: string, points: u64): Cbor {
  return Cbor.map().set("factor", Cbor.text(name)).set("points", Cbor.uint(points));
}

function risk(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const v = event.value;
  const amount = v.get("amount")!.asU64();
  const country = v.get("country")!.asText();
  const pep = v.get("pep")!.kind == Kind.True;
  const factors = Cbor.array();
  let score: u64 = 0;
  if (amount > 10000) {
    factors.push(factor("amount over 10000", 40));
    score += 40;
  } else if (amount > 1000) {
    factors.push(factor("amount over 1000", 20));
    score += 20;
  }
  if (HIGH_RISK.includes(country)) {
    factors.push(factor("high-risk country " + country, 35));
    score += 35;
  }
  if (pep) {
    factors.push(factor("politically exposed person", 25));
    score += 25;
  }
  const band = score >= 60 ? "high" : score >= 30 ? "medium" : "low";
  const seen: u64 = state === null ? 0 : state.get("applications")!.asU64();
  const result = new StepResult(
    Cbor.map().set("score", Cbor.uint(score)).set("band", Cbor.text(band)).set("applications", Cbor.uint(seen + 1)),
  );
  result.ann = Cbor.map()
    .set("trigger", Cbor.text(event.schema))
    .set("factors", factors)
    .set("score", Cbor.uint(score))
    .set("band", Cbor.text(band))
    .set("note", v.get("note")!);
  return result;
}

export function step(): i32 {
  return runStep(risk);
}
