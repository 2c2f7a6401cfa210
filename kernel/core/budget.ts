/**
 * @module Per-grant budgets. Spending is derived from the journal alone — an allowed
 * decision counts one use and reserves its estimated tokens and cents, a receipt settles
 * the reservation to the actual cost — so live execution and replay see the same balance.
 */
import type { CborObject, CborValue } from "../../air/cbor/value.js";
import type { ResolvedGrant } from "../../air/loader.js";

/** Spend of one grant. */
export interface Spend {
  count: number;
  tokens: number;
  cents: number;
}

/** Running totals per grant, rebuilt by replaying decisions and receipts. */
export class BudgetLedger {
  private readonly spent = new Map<string, Spend>();
  private readonly reserved = new Map<string, { grant: string; tokens: number; cents: number }>();

  /** Current spend of a grant. */
  spend(grant: string): Spend {
    return this.spent.get(grant) ?? { count: 0, tokens: 0, cents: 0 };
  }

  /** Why allowing one more use would exceed the grant's budget, or null. */
  wouldExceed(g: ResolvedGrant, estimate: { tokens: number; cents: number }): string | null {
    const b = g.grant.budget;
    if (!b) return null;
    const s = this.spend(g.grant.name);
    if (b.count !== undefined && s.count + 1 > Number(b.count))
      return `grant ${g.grant.name} has used its ${b.count} allowed call(s)`;
    if (b.tokens !== undefined && s.tokens + estimate.tokens > Number(b.tokens))
      return `grant ${g.grant.name} would exceed its ${b.tokens}-token budget (${s.tokens} used, ${estimate.tokens} more requested)`;
    if (b.cents !== undefined && s.cents + estimate.cents > Number(b.cents))
      return `grant ${g.grant.name} would exceed its ${b.cents}-cent budget (${s.cents} used)`;
    return null;
  }

  /** Records an allowed intent: one use, estimate reserved until its receipt. */
  allow(intentId: string, grant: string, estimate: { tokens: number; cents: number }): void {
    const s = this.spend(grant);
    this.spent.set(grant, { count: s.count + 1, tokens: s.tokens + estimate.tokens, cents: s.cents + estimate.cents });
    this.reserved.set(intentId, { grant, ...estimate });
  }

  /** Settles an intent's reservation to its actual cost. */
  settle(intentId: string, actual: { tokens: number; cents: number }): void {
    const r = this.reserved.get(intentId);
    if (!r) return;
    this.reserved.delete(intentId);
    const s = this.spend(r.grant);
    this.spent.set(r.grant, {
      count: s.count,
      tokens: s.tokens - r.tokens + actual.tokens,
      cents: s.cents - r.cents + actual.cents,
    });
  }

  /** The ledger as canonical data (for snapshots). */
  toCbor(): CborValue {
    const spent = [...this.spent.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([g, s]) => [g, s.count, s.tokens, s.cents]);
    const reserved = [...this.reserved.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, r]) => [id, r.grant, r.tokens, r.cents]);
    return { spent, reserved };
  }

  /** Rebuilds a ledger from `toCbor` output. */
  static fromCbor(v: CborValue): BudgetLedger {
    const l = new BudgetLedger();
    if (v === null) return l;
    const o = v as CborObject;
    for (const [g, count, tokens, cents] of o.spent as [string, number, number, number][])
      l.spent.set(g, { count, tokens, cents });
    for (const [id, grant, tokens, cents] of o.reserved as [string, string, number, number][])
      l.reserved.set(id, { grant, tokens, cents });
    return l;
  }
}
