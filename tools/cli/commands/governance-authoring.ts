/**
 * @module `wk propose --from-air DIR` and `wk revert <apply-seq>`: proposals computed instead of
 * written by hand (kernel/world/governance-authoring.ts). Both print the proposal id like `wk
 * propose`, or with `--print` the computed patch document without proposing anything.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { warningLine } from "../../../kernel/air-warnings.js";
import { loadKeyPair } from "../../../kernel/crypto/keys.js";
import { patchFromAir, propose, revertPatch, type AuthoredPatch } from "../../../kernel/world/index.js";
import { CliExit, EXIT, onFile, printJson, worldDir } from "../io.js";
import type { Migration } from "../../../air/schemas/patch.js";
import { withWorld } from "./world.js";

/** Options shared by `propose --from-air` and `revert`. */
export interface AuthoringOpts {
  world?: string;
  key?: string;
  json?: boolean;
  print?: boolean;
  description?: string;
  /** Binaries named by `wasm_hash` (not `"wasm"` paths) in the folder, as `wk propose --wasm`. */
  wasm?: string[];
  /** `wk propose --migrate WORKFLOW=MIGRATION…`: state migrations added to the patch's `migrations`. */
  migrate?: string[];
}

/** The `--migrate WORKFLOW=MIGRATION` values as patch migrations; a malformed one is a usage error. */
export function migrateOption(values: readonly string[] | undefined): Migration[] {
  return (values ?? []).map((v) => {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(v);
    if (!m)
      throw new CliExit(
        EXIT.usage,
        `--migrate takes WORKFLOW=MIGRATION (e.g. demo/Counter@1=demo/MigrateCounter@1), got "${v}"`,
      );
    return { module: m[1]!, migration: m[2]! };
  });
}

/** `doc` with `extra` appended to its `migrations` (unchanged when there are none). */
export function withMigrations<D extends { migrations?: Migration[] | undefined }>(
  doc: D,
  extra: readonly Migration[],
): D {
  return extra.length === 0 ? doc : { ...doc, migrations: [...(doc.migrations ?? []), ...extra] };
}

/** Prints the patch (`--print`), or proposes it and prints the proposal id (`--json`: the proposal and the patch). */
async function proposeComputed(
  opts: AuthoringOpts,
  compute: (w: Parameters<Parameters<typeof withWorld>[1]>[0]) => AuthoredPatch,
  extra: (p: AuthoredPatch) => Record<string, unknown> = () => ({}),
): Promise<void> {
  const key = opts.key ? loadKeyPair(opts.key) : undefined;
  const migrations = migrateOption(opts.migrate);
  const extraWasm = (opts.wasm ?? []).map((f) => new Uint8Array(onFile("read", f, () => readFileSync(f))));
  await withWorld(
    worldDir(opts.world),
    async (w) => {
      const computed = compute(w);
      const p = { ...computed, doc: withMigrations(computed.doc, migrations) };
      for (const b of p.emptied)
        process.stderr.write(
          `note: the patch leaves ${b} empty rather than absent (no patch operation removes a block): the manifest will be ${p.manifestHash}\n`,
        );
      if (opts.print) return printJson(p.doc);
      const r = await propose(w, p.doc, { ...(key ? { proposer: key } : {}), wasm: [...extraWasm, ...p.wasm] });
      for (const x of r.warnings) process.stderr.write(warningLine(x) + "\n");
      if (opts.json)
        printJson({
          proposal_id: r.proposalId,
          seq: r.seq,
          new_manifest_hash: r.newManifestHash,
          description: p.doc.description ?? null,
          ...extra(p),
          patch: p.doc,
          warnings: r.warnings,
        });
      else process.stdout.write(`${r.proposalId}\n`);
    },
    opts.print ? { snapshot: false } : {},
  );
}

/** `wk propose --from-air DIR`: the diff from the world's current defs to the folder's, proposed. */
export function proposeFromAirCommand(dir: string, opts: AuthoringOpts): Promise<void> {
  return proposeComputed(opts, (w) =>
    patchFromAir(w, dir, opts.description !== undefined ? { description: opts.description } : {}),
  );
}

/** Registers `wk revert`. */
export function registerRevert(program: Command): void {
  program
    .command("revert <apply-seq>")
    .description(
      "propose the inverse of the apply at that seq: a patch back to the defs in force before it (still shadowed, approved and applied)",
    )
    .option("--world <dir>", "world directory")
    .option("--key <keyfile>", "the proposer's key (a proposer cannot approve its own proposal)")
    .option(
      "--description <text>",
      "the proposal's description (default: which apply it reverts, and whether the world moved on since)",
    )
    .option("--print", "print the computed patch document instead of proposing it")
    .option("--json", "machine-readable output")
    .action(async (seqText: string, opts: AuthoringOpts) => {
      const seq = Number(seqText);
      if (!/^\d+$/.test(seqText) || !Number.isSafeInteger(seq))
        throw new CliExit(EXIT.usage, `<apply-seq> must be a non-negative integer, got "${seqText}"`);
      await proposeComputed(
        opts,
        (w) => revertPatch(w, seq, opts.description !== undefined ? { description: opts.description } : {}),
        (p) => {
          const t = (p as ReturnType<typeof revertPatch>).target;
          return {
            reverts: {
              apply_seq: t.applySeq,
              proposal_id: t.proposalId,
              manifest_hash: t.before.manifestHash,
              later_applies: t.laterApplies,
            },
          };
        },
      );
    });
}
