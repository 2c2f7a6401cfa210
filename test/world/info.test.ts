/**
 * @module `wk info`: what a world is, from its journal alone — id, keys (genesis and
 * rotations), head, last checkpoint, manifest, formats, flags — also while a writer holds
 * the world, and without importing anything that replays or loads WASM.
 */
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { KERNEL_FLAGS } from "../../kernel/transition/flags.js";
import { World } from "../../kernel/world/world.js";
import { ROOT, json, wk } from "./cli-harness.js";

const COUNTER = join(ROOT, "worlds/counter");

interface Info {
  world: string;
  world_id: string;
  fork: { parent_world_id: string; seq: number } | null;
  journal: { format_version: number; storage_version: number; entries: number };
  keys: {
    world: string;
    adapter: { id: string; public_key: string; declared_at: number }[];
    declarations: { seq: number; adapter_keys: { id: string; public_key: string }[] }[];
  };
  head: { seq: number; hash: string } | null;
  checkpoint: {
    seq: number;
    tree_size: number;
    root: string;
    state_root: string;
    manifest_hash: string;
    covers_head: boolean;
  } | null;
  snapshot: { seq: number; state_root: string } | null;
  manifest: { hash: string; since_seq: number; genesis_hash: string };
  checkpoint_every: number | null;
  kernel_flags: string[];
  unsupported_flags: string[];
}

describe("wk info", () => {
  it("reports identity, keys, head, checkpoint, manifest, formats and flags as the journal records them", () => {
    const base = mkdtempSync(join(tmpdir(), "wk-info-"));
    const w = join(base, "w");
    const created = json<{ world_id: string; manifest_hash: string }>(wk("create", COUNTER, "--world", w, "--json"));
    json(wk("send", "demo/CounterEvent@1", '{"key":"a","by":2}', "--world", w, "--json"));
    const i = json<Info>(wk("info", "--world", w, "--json"));
    const genesis = (
      JSON.parse(wk("log", "--world", w, "--kind", "genesis", "--json").stdout) as {
        body: { world_public_key: string; adapter_keys: { id: string; public_key: string }[] };
      }[]
    )[0]!.body;
    expect(i).toMatchObject({
      world: w,
      world_id: created.world_id,
      fork: null,
      journal: { format_version: 2, storage_version: 4 },
      keys: {
        world: genesis.world_public_key,
        adapter: [{ id: "adapter", public_key: genesis.adapter_keys[0]!.public_key, declared_at: 0 }],
      },
      manifest: { hash: created.manifest_hash, since_seq: 0, genesis_hash: created.manifest_hash },
      checkpoint_every: 1000,
      kernel_flags: [...KERNEL_FLAGS],
      unsupported_flags: [],
    });
    // A cleanly closed world ends with its snapshot and a checkpoint sealing the head.
    const verify = json<{ entries: number }>(wk("verify", "--world", w, "--json"));
    expect(i.journal.entries).toBe(verify.entries);
    expect(i.head!.seq).toBe(i.journal.entries - 1);
    expect(i.checkpoint).toMatchObject({
      seq: i.head!.seq,
      tree_size: i.head!.seq,
      covers_head: true,
      manifest_hash: created.manifest_hash,
    });
    expect(i.checkpoint!.root).toMatch(/^[0-9a-f]{64}$/);
    const state = json<{ state_root: string }>(wk("state", "--world", w));
    expect(i.checkpoint!.state_root).toBe(state.state_root);
    expect(i.snapshot).toMatchObject({ state_root: state.state_root });
    const [head] = JSON.parse(wk("log", "--world", w, "--from", String(i.head!.seq), "--json").stdout) as {
      seq: number;
      kind: string;
      hash: string;
      body: { root: string };
    }[];
    expect(head).toMatchObject({
      seq: i.head!.seq,
      kind: "checkpoint",
      hash: i.head!.hash,
      body: { root: i.checkpoint!.root },
    });

    // Human output names the same things.
    const text = wk("info", "--world", w);
    expect(text.status, text.stderr).toBe(0);
    for (const s of [
      created.world_id,
      i.head!.hash,
      i.checkpoint!.root,
      created.manifest_hash,
      genesis.world_public_key,
      "format 2, storage v4",
      "(seals the head)",
    ])
      expect(text.stdout).toContain(s);

    // A rotation is a declaration; the key in force is the rotated one, from its seq.
    const rot = json<{ seq: number; adapter_public_key: string }>(wk("keys", "rotate-adapter", "--world", w, "--json"));
    const after = json<Info>(wk("info", "--world", w, "--json"));
    expect(after.keys.adapter).toEqual([{ id: "adapter", public_key: rot.adapter_public_key, declared_at: rot.seq }]);
    expect(after.keys.declarations.map((d) => d.seq)).toEqual([0, rot.seq]);
    expect(wk("info", "--world", w).stdout).toContain(`1 rotation(s), at seq ${rot.seq}`);

    // A fork names its parent.
    const f = join(base, "f");
    json(wk("fork", "--world", w, "--at", "1", "--to", f, "--json"));
    expect(json<Info>(wk("info", "--world", f, "--json")).fork).toMatchObject({
      parent_world_id: created.world_id,
      seq: expect.any(Number),
    });
  }, 120_000);

  it("answers while another process holds the world open for writing, and reports an unsealed tail", async () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-info-")), "w");
    expect(wk("create", COUNTER, "--world", w).status).toBe(0);
    const world = await World.open(w);
    try {
      await world.send("demo/CounterEvent@1", { key: "x", by: 1 });
      const i = json<Info>(wk("info", "--world", w, "--json"));
      expect(i.head!.seq).toBe(world.store.countSync() - 1);
      expect(i.checkpoint!.covers_head).toBe(false);
      expect(wk("info", "--world", w).stdout).toMatch(/\(\d+ entries after it\)/);
    } finally {
      await world.close();
    }
  }, 60_000);

  it("reads golden journals as recorded: the manifest an apply put in force, a format 1 journal's missing declarations", () => {
    // On copies: even a read-only open of a WAL journal leaves -shm/-wal files beside it.
    const fixtures = mkdtempSync(join(tmpdir(), "wk-info-golden-"));
    for (const f of ["governed_v2", "counter_v1"])
      cpSync(join(ROOT, "test/fixtures/journals", f), join(fixtures, f), { recursive: true });
    const governed = json<Info>(wk("info", "--world", join(fixtures, "governed_v2"), "--json"));
    const apply = (
      JSON.parse(wk("log", "--world", join(fixtures, "governed_v2"), "--kind", "apply", "--json").stdout) as {
        seq: number;
        body: { new_manifest_hash: string };
      }[]
    ).at(-1)!;
    expect(governed.manifest).toMatchObject({ hash: apply.body.new_manifest_hash, since_seq: apply.seq });
    expect(governed.manifest.genesis_hash).not.toBe(governed.manifest.hash);
    expect(governed.checkpoint!.manifest_hash).toBe(governed.manifest.hash);
    const v1 = json<Info>(wk("info", "--world", join(fixtures, "counter_v1"), "--json"));
    expect(v1).toMatchObject({
      journal: { format_version: 1, storage_version: 1 },
      keys: { adapter: [] },
      checkpoint_every: null,
      kernel_flags: ["abi-v1", "fuel-v1", "gate-v1", "order-v1"],
    });
  }, 60_000);

  it("a missing world exits 1 with a coded error", () => {
    const r = wk("info", "--world", join(tmpdir(), "wk-info-nothing-here"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("journal.not_found");
  });

  it("imports nothing that replays or loads WASM (the command stays light)", () => {
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)) {
        const spec = m[1]!;
        expect(spec, `${file} imports ${spec}`).not.toMatch(
          /extism|jco|componentize|\/wasm\/|\/adapters\/|processor|replay|modules\.js|lifecycle|\/world\/index|world\.js$/,
        );
        if (spec.startsWith(".")) walk(relative(ROOT, join(ROOT, file, "..", spec.replace(/\.js$/, ".ts"))));
      }
    };
    walk("tools/cli/commands/info.ts");
    expect(seen.has("kernel/world/info.ts")).toBe(true);
    expect(seen.has("kernel/journal/sqlite-store.ts")).toBe(true);
  });
});
