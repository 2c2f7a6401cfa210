/**
 * @module A world's `config.json`: durability, checkpoint cadence, adapter and webhook
 * settings, analysis thresholds. No secrets live here (keys are 0600 files under keys/,
 * secret values in env or the 0600 secrets.json), and nothing in it affects replay.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { AnalysisConfigSchema } from "../analysis/config.js";
import { KernelError } from "../core/errors.js";

/** The schema of a world's config.json. */
export const WorldConfigSchema = z.strictObject({
  world_id: z.string().min(1),
  synchronous: z.enum(["FULL", "NORMAL"]).default("FULL"),
  checkpoint_every: z.number().int().min(0).default(1000),
  /**
   * Where the journal lives when not in journal.db beside this file: a PostgreSQL URL
   * (`postgres://user@host:port/db`). Never a password: PGPASSWORD or ~/.pgpass supply it.
   */
  store: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "store must be a postgres:// URL")
    .refine((u) => URL.canParse(u) && new URL(u).password === "", {
      message: "store must be a valid URL without a password (set PGPASSWORD or use ~/.pgpass)",
    })
    .optional(),
  /** Operator settings of adapters, e.g. an OpenAI-compatible endpoint; secrets are named by env var, never stored. */
  adapters: z
    .strictObject({
      llm: z
        .strictObject({
          /** The provider these settings configure: an OpenAI-compatible endpoint (`POST {base_url}/chat/completions`). */
          provider: z.literal("openai").optional(),
          base_url: z.string().url(),
          /** The environment variable holding the API key (the key itself is never written here). */
          api_key_env: z
            .string()
            .regex(/^[A-Z_][A-Z0-9_]*$/)
            .optional(),
        })
        .optional(),
      /** The MCP servers grants may call over stdio, by name (`stdio:NAME`): the operator's allowlist of commands. */
      mcp: z
        .strictObject({
          stdio: z
            .record(
              z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a stdio server name is 1 to 64 letters, digits, _ . or -"),
              z.strictObject({
                /** The program, run without a shell, with the SDK's default environment (HOME, PATH, USER, …). */
                command: z.string().min(1),
                args: z.array(z.string()).optional(),
                cwd: z.string().min(1).optional(),
              }),
            )
            .optional(),
        })
        .optional(),
    })
    .optional(),
  /**
   * Ingress webhooks `wk serve` answers at `POST /v1/worlds/:id/webhooks/:name`, each verified
   * by an HMAC-SHA256 over the raw body with a defsecret of the manifest (named, never stored here).
   */
  webhooks: z
    .record(
      z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a webhook name is 1 to 64 letters, digits, _ or -"),
      z.strictObject({
        /** The event schema the JSON body is appended as. */
        schema: z.string().min(1),
        /** The defsecret whose value keys the HMAC. */
        secret: z.string().min(1),
        /** The header carrying the hex HMAC, optionally prefixed `sha256=` (default X-Signature-256). */
        signature_header: z
          .string()
          .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/)
          .optional(),
        /** A header whose value dedupes redeliveries (an idempotency key scoped to this webhook). */
        idempotency_header: z
          .string()
          .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/)
          .optional(),
        /**
         * A header carrying the delivery's Unix time in seconds: the HMAC is then over
         * `<timestamp>.<body>`, and a delivery further than `tolerance_s` from the server's clock
         * is refused, so a captured request cannot be replayed later.
         */
        timestamp_header: z
          .string()
          .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/)
          .optional(),
        /** How far (seconds) a timestamped delivery may be from the server's clock (default 300). */
        tolerance_s: z.number().int().min(1).max(86_400).optional(),
      }),
    )
    .optional(),
  /** Thresholds of `wk analyze`'s detectors (kernel/analysis/config.ts); absent: the defaults. */
  analysis: AnalysisConfigSchema.optional(),
});
export type WorldConfig = z.infer<typeof WorldConfigSchema>;

/** Reads and validates config.json (missing file → kernel.bad_world). */
export function readConfig(path: string): WorldConfig {
  if (!existsSync(path))
    throw new KernelError(
      "kernel.bad_world",
      `${path} does not exist: not a world directory (create one with wk create)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new KernelError("kernel.bad_world", `${path} is not valid JSON: ${(e as Error).message}`);
  }
  const r = WorldConfigSchema.safeParse(raw);
  if (!r.success)
    throw new KernelError(
      "kernel.bad_world",
      `${path}: ${r.error.issues[0]!.message} at $.${r.error.issues[0]!.path.join(".")}`,
    );
  return r.data;
}

/** Writes config.json. */
export function writeConfig(path: string, c: WorldConfig): void {
  writeFileSync(path, JSON.stringify(c, null, 2) + "\n", { flag: "wx" });
}

/** Replaces config.json atomically (a new file renamed over the old), for a world that changes store. */
export function replaceConfig(path: string, c: WorldConfig): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(c, null, 2) + "\n", { flag: "w" });
  renameSync(tmp, path);
}
