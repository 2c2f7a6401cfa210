/**
 * @module One journal entry as the analysis reads it: the JSON form `wk log --json` and
 * `wk log --ndjson` print (kernel/journal/entry-json.ts: body decoded, bytes as hex, big integers
 * as decimal text). A world's entries are turned into it on the fly and an NDJSON export is read
 * back as it, so both inputs meet the detectors in one shape. Parsing a line checks it with zod
 * and names the line number of a bad one. Node-free (no hashing, no CBOR), so the console's
 * browser code can use the types built on it; line-of-entry.ts converts a stored entry.
 */
import { z } from "zod";
import { ENTRY_KINDS } from "../journal/entry-kinds.js";
import { AnalysisError } from "./errors.js";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");

/** A journal entry as JSON: seq, kind, its hash and the previous entry's, the decoded body. */
export const JournalLineSchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  kind: z.enum(ENTRY_KINDS),
  hash: hex32,
  prev_hash: hex32,
  body: z.unknown(),
});
export type JournalLine = z.infer<typeof JournalLineSchema>;

/** Parses one NDJSON line (1-based `line` for the error); `analysis.bad_line` when it is not JSON or not an entry. */
export function parseJournalLine(text: string, line: number): JournalLine {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AnalysisError("analysis.bad_line", `line ${line}: not JSON (${(e as Error).message})`, { line });
  }
  const r = JournalLineSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const at = issue.path.length === 0 ? "" : ` at $.${issue.path.map(String).join(".")}`;
    throw new AnalysisError("analysis.bad_line", `line ${line}: ${issue.message}${at}`, { line });
  }
  return r.data;
}

/**
 * Holds a sequence of lines to the chain they claim: consecutive seqs, each `prev_hash` the hash
 * of the line before. It cannot recompute a hash (the JSON view does not keep the CBOR bytes) nor
 * check a signature: it catches lines dropped, repeated or reordered, not a line rewritten with its
 * hash. Only a world's journal (`--world`) is verified in full.
 */
export class ChainCheck {
  private last: { seq: number; hash: string } | undefined;

  /** Checks `l` (read at 1-based `line`) follows the line before; `analysis.broken_chain` otherwise. */
  next(l: JournalLine, line: number): void {
    const p = this.last;
    if (p !== undefined && (l.seq !== p.seq + 1 || l.prev_hash !== p.hash))
      throw new AnalysisError(
        "analysis.broken_chain",
        l.seq !== p.seq + 1
          ? `line ${line}: seq ${l.seq} follows seq ${p.seq}`
          : `line ${line}: prev_hash of seq ${l.seq} is not the hash of seq ${p.seq}`,
        { line, seq: l.seq },
      );
    this.last = { seq: l.seq, hash: l.hash };
  }
}
