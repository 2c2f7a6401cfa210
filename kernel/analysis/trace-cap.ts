/**
 * @module A causal tree cut to at most `max` entries, for readers that must bound what they hold
 * or send (the server's trace route): the path from the root to the selected entry always stays,
 * then entries in seq-order reading (depth first) until the limit; each kept entry counts the
 * entries under it that were left out, so a view can say "n more" where it was cut.
 */
import type { CausalNode } from "./causal.js";

/** A tree as cut: its root, how many entries the whole tree has and how many stay, and what each kept entry lost. */
export interface CappedTree {
  root: CausalNode;
  total: number;
  shown: number;
  /** Entries left out under a kept entry (by its seq); absent when none were. */
  omitted: ReadonlyMap<number, number>;
}

/** The entries of a tree depth first, with each one's parent (iterative: a long cascade is a deep tree). */
function depthFirst(root: CausalNode): { order: CausalNode[]; parent: Map<CausalNode, CausalNode> } {
  const order: CausalNode[] = [];
  const parent = new Map<CausalNode, CausalNode>();
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) {
      parent.set(n.children[i]!, n);
      stack.push(n.children[i]!);
    }
  }
  return { order, parent };
}

/** `root`'s tree with at most `max` entries (at least the path to `selected`), marking where it was cut. */
export function capTree(root: CausalNode, selected: number, max: number): CappedTree {
  const { order, parent } = depthFirst(root);
  if (order.length <= max) return { root, total: order.length, shown: order.length, omitted: new Map() };
  const keep = new Set<CausalNode>();
  // The selected entry and its ancestors first: a cut view must still show what was asked about.
  for (let n = order.find((x) => x.line.seq === selected); n !== undefined; n = parent.get(n)) keep.add(n);
  keep.add(root);
  // Depth-first order visits a parent before its children, so every kept entry's parent is kept.
  for (const n of order) {
    if (keep.size >= max) break;
    const p = parent.get(n);
    if (p === undefined || keep.has(p)) keep.add(n);
  }
  const size = new Map<CausalNode, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    size.set(n, 1 + n.children.reduce((s, c) => s + size.get(c)!, 0));
  }
  const omitted = new Map<number, number>();
  const copies = new Map<CausalNode, CausalNode>();
  for (const n of order) {
    if (!keep.has(n)) continue;
    const copy: CausalNode = { line: n.line, children: [] };
    copies.set(n, copy);
    const p = parent.get(n);
    if (p !== undefined) copies.get(p)!.children.push(copy);
    const lost = n.children.reduce((s, c) => s + (keep.has(c) ? 0 : size.get(c)!), 0);
    if (lost > 0) omitted.set(n.line.seq, lost);
  }
  return { root: copies.get(root)!, total: order.length, shown: keep.size, omitted };
}
