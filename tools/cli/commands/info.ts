/**
 * @module `wk info`: what a world is — id, keys, head, last checkpoint, manifest, formats,
 * kernel flags — from its journal alone. Kept light on purpose: it imports the journal
 * store and nothing that replays or loads WASM, so it answers in milliseconds, also while
 * another process has the world open for writing.
 */
import type { Command } from "commander";
import { worldInfo, type WorldInfo } from "../../../kernel/world/info.js";
import type { AnchorLogInfo } from "../../../kernel/world/anchor-log.js";
import { printJson, worldDir } from "../io.js";

const short = (h: string): string => (h.length > 20 ? `${h.slice(0, 16)}…` : h);

const row = (label: string, value: string): string => `${label.padEnd(13)}${value}`;

/** Where the anchor log is and what it last anchored. */
function anchorLogText(l: AnchorLogInfo): string {
  if (l.problem !== undefined) return `${l.path} (unreadable: ${l.problem}; run wk verify)`;
  if (l.tree_size === null) return `${l.path} (none on this machine yet: one starts at the next seal)`;
  return `${l.path} (${l.lines} anchor(s), last anchored tree size ${l.tree_size})`;
}

/** The human rendering of `wk info`. */
export function infoText(i: WorldInfo): string {
  const c = i.checkpoint;
  const lines = [
    row("world", `${i.world_id}  (${i.world})`),
    row(
      "created",
      `${new Date(Number(BigInt(i.created_ns) / 1_000_000n)).toISOString()}${i.fork ? `, forked from ${i.fork.parent_world_id} at seq ${i.fork.seq}` : ""}`,
    ),
    row(
      "journal",
      `format ${i.journal.format_version}, storage v${i.journal.storage_version}, ${i.journal.entries} entries, in ${i.journal.at}`,
    ),
    row("head", i.head ? `seq ${i.head.seq}, hash ${i.head.hash}` : "(empty)"),
    row(
      "checkpoint",
      c
        ? `seq ${c.seq}, root ${c.root}${c.covers_head ? " (seals the head)" : ` (${i.journal.entries - 1 - c.seq} entries after it)`}`
        : "none",
    ),
    ...(c ? [row("", `state root ${c.state_root}`)] : []),
    ...(i.anchor_log ? [row("anchor log", anchorLogText(i.anchor_log))] : []),
    row("snapshot", i.snapshot ? `seq ${i.snapshot.seq}, state root ${i.snapshot.state_root}` : "none"),
    row(
      "manifest",
      `${i.manifest.hash}${i.manifest.since_seq > 0 ? ` (applied at seq ${i.manifest.since_seq}; genesis ${short(i.manifest.genesis_hash)})` : ""}`,
    ),
    row("world key", i.keys.world),
    ...(i.keys.adapter.length
      ? i.keys.adapter.map((k, n) =>
          row(n === 0 ? "adapter keys" : "", `${k.id} ${k.public_key} (declared at seq ${k.declared_at})`),
        )
      : [row("adapter keys", "none declared (format 1)")]),
    ...(i.keys.declarations.length > 1
      ? [
          row(
            "",
            `${i.keys.declarations.length - 1} rotation(s), at seq ${i.keys.declarations
              .slice(1)
              .map((d) => d.seq)
              .join(", ")}`,
          ),
        ]
      : []),
    row(
      "flags",
      `${i.kernel_flags.join(", ")}${i.unsupported_flags.length ? `  (not implemented by this kernel: ${i.unsupported_flags.join(", ")})` : ""}`,
    ),
    ...(i.checkpoint_every !== null
      ? [
          row(
            "cadence",
            i.checkpoint_every === 0
              ? "signed checkpoints only when the world closes"
              : `a signed checkpoint every ${i.checkpoint_every} entries`,
          ),
        ]
      : []),
  ];
  return lines.join("\n") + "\n";
}

/** Registers `wk info`. */
export function registerInfo(program: Command): void {
  program
    .command("info")
    .description(
      "what a world is: id, keys, head, last checkpoint, manifest, formats, kernel flags (from the journal; no replay, no module loaded)",
    )
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; json?: boolean }) => {
      const info = await worldInfo(worldDir(opts.world));
      if (opts.json) printJson(info);
      else process.stdout.write(infoText(info));
    });
}
