/**
 * @module `wk receipt verify <bundle.json>`: offline verification of an exported receipt
 * bundle — needs nothing but the bundle (no --world). The lead adds `list` and `export`
 * to the same group via the returned command.
 */
import type { Command } from "commander";
import { verifyBundleFile } from "../../../kernel/crypto/verify-bundle-main.js";
import { CliExit, EXIT } from "../io.js";

const HEX32 = /^[0-9a-fA-F]{64}$/;

/** Adds `verify` to a `receipt` command group. */
export function addReceiptVerify(receipt: Command): void {
  receipt
    .command("verify <bundle.json>")
    .description(
      "verify a receipt bundle offline: entry hash, adapter signature, payload, Merkle inclusion, signed checkpoint",
    )
    .option("--json", "machine-readable verdict")
    .option("--world-key <hex>", "require the checkpoint to be signed by this world public key (32 bytes hex)")
    .option("--adapter-key <hex>", "require the receipt to be signed by this adapter public key (32 bytes hex)")
    .action((file: string, opts: { json?: boolean; worldKey?: string; adapterKey?: string }) => {
      for (const [flag, v] of [
        ["--world-key", opts.worldKey],
        ["--adapter-key", opts.adapterKey],
      ] as const) {
        if (v !== undefined && !HEX32.test(v)) throw new CliExit(EXIT.usage, `${flag} must be 64 hex digits`);
      }
      const r = verifyBundleFile(file, {
        ...(opts.json ? { json: true } : {}),
        ...(opts.worldKey === undefined ? {} : { worldPublicKey: opts.worldKey }),
        ...(opts.adapterKey === undefined ? {} : { adapterPublicKey: opts.adapterKey }),
      });
      // An unreadable file is an error in the one format; its record keeps the verdict's `fault`.
      if (r.verdict === null)
        throw new CliExit(EXIT.check_failed, r.error ?? r.output.trimEnd(), {
          code: "cli.bad_file",
          fields: { path: file, fault: "unreadable_file" },
        });
      process.stdout.write(r.output);
      if (r.exitCode !== EXIT.ok) throw new CliExit(r.exitCode, "");
    });
}

/** Registers the `receipt` command group (with `verify`) and returns it for more subcommands. */
export function registerReceipt(program: Command): Command {
  const receipt = program
    .command("receipt")
    .description("effect receipts: list, export as bundles, verify bundles offline");
  addReceiptVerify(receipt);
  return receipt;
}
