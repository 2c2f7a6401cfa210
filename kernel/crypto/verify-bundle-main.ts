/**
 * @module Standalone offline verifier: `npx tsx kernel/crypto/verify-bundle-main.ts
 * <bundle.json> [--json] [--world-key HEX]`. No world directory, no SQLite, no WASM; the
 * `wk receipt verify` command shares `verifyBundleFile`. Exit 0 valid, 1 invalid or unreadable, 2 usage.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { verifyBundle, type BundleVerdict, type VerifyBundleOptions } from "./verify-bundle.js";

/** The verdict rendered for a terminal or as JSON, with the exit code to end with. */
export interface VerifyFileResult {
  exitCode: 0 | 1 | 2;
  output: string;
  verdict: BundleVerdict | null;
  /** Why the file could not be read (then `verdict` is null). */
  error?: string;
}

const bigintSafe = (_k: string, v: unknown): unknown =>
  typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v;

/** Reads and verifies a bundle file; never throws for a bad file or bundle. */
export function verifyBundleFile(file: string, opts: VerifyBundleOptions & { json?: boolean } = {}): VerifyFileResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const message = `cannot read ${file}: ${(e as Error).message}`;
    return {
      exitCode: 1,
      verdict: null,
      error: message,
      output: opts.json
        ? JSON.stringify({ ok: false, fault: "unreadable_file", message }) + "\n"
        : `error: ${message}\n`,
    };
  }
  const { json, ...vopts } = opts;
  const v = verifyBundle(text, vopts);
  if (json) return { exitCode: v.ok ? 0 : 1, verdict: v, output: JSON.stringify(v, bigintSafe, 2) + "\n" };
  if (!v.ok) return { exitCode: 1, verdict: v, output: `INVALID ${v.fault}: ${v.message}\n` };
  const r = v.receipt;
  const lines = [
    `VALID receipt for intent ${r.intent_id}`,
    `  world        ${v.world_id} (key ${v.world_public_key})`,
    `  effect       ${r.effect_kind} → ${r.status}`,
    `  adapter      ${r.adapter_id}@${r.adapter_version} (key ${v.adapter_public_key})`,
    `  payload      ${r.payload_hash}`,
    `  entry        seq ${v.seq}, in checkpoint tree_size ${v.checkpoint.tree_size} root ${v.checkpoint.root}`,
  ];
  if (opts.worldPublicKey === undefined)
    lines.push("  note: no --world-key given; the world key was taken from the bundle itself");
  return { exitCode: 0, verdict: v, output: lines.join("\n") + "\n" };
}

function main(argv: string[]): number {
  const args = [...argv];
  const opts: VerifyBundleOptions & { json?: boolean } = {};
  let file: string | undefined;
  while (args.length) {
    const a = args.shift()!;
    if (a === "--json") opts.json = true;
    else if (a === "--world-key" && args.length) opts.worldPublicKey = args.shift()!;
    else if (a === "--adapter-key" && args.length) opts.adapterPublicKey = args.shift()!;
    else if (!a.startsWith("--") && file === undefined) file = a;
    else {
      process.stderr.write(`usage: verify-bundle-main <bundle.json> [--json] [--world-key HEX] [--adapter-key HEX]\n`);
      return 2;
    }
  }
  if (file === undefined) {
    process.stderr.write(`usage: verify-bundle-main <bundle.json> [--json] [--world-key HEX] [--adapter-key HEX]\n`);
    return 2;
  }
  const r = verifyBundleFile(file, opts);
  (r.exitCode === 2 && !opts.json ? process.stderr : process.stdout).write(r.output);
  return r.exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = main(process.argv.slice(2));
