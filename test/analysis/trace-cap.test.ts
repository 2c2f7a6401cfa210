/**
 * @module capTree on built trees: a tree within the limit comes back whole; a larger one keeps
 * the limit's worth of entries in reading order, always the path to the selected entry (even one
 * deep past the limit), every kept entry's parent, and counts under each kept entry exactly the
 * entries it lost, so shown + omitted is the whole tree.
 */
import { describe, expect, it } from "vitest";
import { capTree, traceView, type CausalNode, type TraceView } from "../../kernel/analysis/index.js";

const Z = "0".repeat(64);
let next = 0;
/** A node with a fresh seq and these children. */
const node = (...children: CausalNode[]): CausalNode => ({
  line: { seq: next++, kind: "event", hash: Z, prev_hash: Z, body: null },
  children,
});
const flat = (v: TraceView): TraceView[] => [v, ...v.children.flatMap(flat)];

/** A root with `n` leaves under it, and a chain of `depth` entries under its last leaf. */
function wide(n: number, depth: number): { root: CausalNode; deepest: number } {
  next = 0;
  const leaves = Array.from({ length: n }, () => node());
  let tip = leaves.at(-1)!;
  for (let i = 0; i < depth; i++) {
    const child = node();
    tip.children.push(child);
    tip = child;
  }
  return { root: node(...leaves), deepest: tip.line.seq };
}

describe("capTree", () => {
  it("returns a tree within the limit whole", () => {
    const { root } = wide(5, 2);
    const cut = capTree(root, 0, 100);
    expect(cut).toMatchObject({ total: 8, shown: 8 });
    expect(cut.root).toBe(root);
    expect(cut.omitted.size).toBe(0);
  });

  it("keeps the limit in reading order and counts what each kept entry lost", () => {
    const { root } = wide(100, 0);
    const cut = capTree(root, root.line.seq, 10);
    expect(cut).toMatchObject({ total: 101, shown: 10 });
    const view = traceView(cut.root, root.line.seq, cut.omitted);
    expect(view.children.map((c) => c.seq)).toEqual(root.children.slice(0, 9).map((c) => c.line.seq));
    expect(view.omitted).toBe(91);
    expect(flat(view)).toHaveLength(10);
  });

  it("always keeps the path to the selected entry, even past the limit", () => {
    const { root, deepest } = wide(50, 20);
    const cut = capTree(root, deepest, 5);
    const view = traceView(cut.root, deepest, cut.omitted);
    const all = flat(view);
    expect(all.find((v) => v.selected)?.seq).toBe(deepest);
    expect(cut.shown).toBe(all.length);
    expect(all.length).toBe(22); // root, the last leaf, its 20-entry chain: the path alone passes 5
    const lost = all.reduce((s, v) => s + (v.omitted ?? 0), 0);
    expect(cut.shown + lost).toBe(cut.total);
  });
});
