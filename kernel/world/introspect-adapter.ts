/**
 * @module The kernel-internal adapter behind `introspect.manifest`: the manifest in force and
 * the journal's height when the intent is performed (after the batch that issued it is
 * durable). Its answer is a signed receipt like any other, so replay reads it and never asks
 * again. For the same facts during a step, read the `manifest_get` and `journal_head` host
 * calls (they answer from the step's own context). `consistency` is recorded, not acted on:
 * every answer is of the world's committed head.
 */
import { hashToBytes } from "../../air/hash.js";
import type { EffectAdapter } from "../adapters/adapter.js";
import type { IntrospectedWorld } from "./world-port.js";

/** Serves `introspect.manifest` from the world: `{manifest_hash, journal_height}`. */
export function introspectAdapter(world: IntrospectedWorld): EffectAdapter {
  return {
    id: "kernel.introspect",
    version: "1",
    kinds: ["introspect.manifest"],
    perform(req) {
      const started = req.nowNs();
      return Promise.resolve({
        status: "ok" as const,
        payload: { manifest_hash: hashToBytes(world.catalog.manifestHash), journal_height: world.store.countSync() },
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
        startedNs: started,
        finishedNs: req.nowNs(),
      });
    },
  };
}
