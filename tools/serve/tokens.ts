/**
 * @module Bearer tokens by role. The tokens file is JSON `{"tokens": [{"token", "roles"}]}`
 * of mode 0600 (refused when group or others may read it, like a key file). Without one,
 * `wk serve` writes a fresh admin token beside the first world. Tokens are compared in
 * constant time and never logged.
 */
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { HttpError } from "./errors.js";

/** What a token may do. `admin` may do everything. */
export const ROLES = ["ingest", "read", "approve", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const TokensFileSchema = z.strictObject({
  tokens: z
    .array(
      z.strictObject({
        token: z.string().min(16, "a token has at least 16 characters"),
        roles: z.array(z.enum(ROLES)).min(1),
        name: z.string().optional(),
      }),
    )
    .min(1),
});
export type TokensFile = z.infer<typeof TokensFileSchema>;

/** Why a tokens file cannot be used (its path and what to do). */
export class TokensFileError extends HttpError {
  constructor(code: string, message: string, path: string) {
    super(500, code, message, { path });
  }
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest();

/** Who a bearer token is: its roles, and its name (the file's `name`, else a fingerprint `sha256:` + 12 hex of its digest). */
export interface TokenIdentity {
  roles: ReadonlySet<Role>;
  name: string;
}

/** The tokens a server accepts, checked in constant time. */
export class Tokens {
  private readonly entries: { digest: Buffer; roles: ReadonlySet<Role>; name: string }[];

  constructor(file: TokensFile) {
    this.entries = file.tokens.map((t) => {
      const d = digest(t.token);
      return { digest: d, roles: new Set(t.roles), name: t.name ?? `sha256:${d.toString("hex").slice(0, 12)}` };
    });
  }

  /** Reads a tokens file, refusing one that group or others can read. */
  static load(path: string): Tokens {
    if (!existsSync(path))
      throw new TokensFileError(
        "serve.no_tokens_file",
        "no tokens file there (leave --tokens out to have one created)",
        path,
      );
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new TokensFileError(
        "serve.tokens_permissions",
        `tokens file is mode ${mode.toString(8)}; it must be 0600 (chmod 600 it)`,
        path,
      );
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new TokensFileError("serve.bad_tokens_file", `tokens file is not JSON: ${(e as Error).message}`, path);
    }
    const r = TokensFileSchema.safeParse(json);
    if (!r.success) {
      const i = r.error.issues[0]!;
      const where = ["$", ...i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))].join("");
      throw new TokensFileError("serve.bad_tokens_file", `tokens file: ${i.message} at ${where}`, path);
    }
    return new Tokens(r.data);
  }

  /** Writes a new tokens file (0600) with one fresh admin token; refuses to overwrite one. */
  static create(path: string): { tokens: Tokens; token: string } {
    if (existsSync(path)) throw new TokensFileError("serve.tokens_exist", "a tokens file is already there", path);
    const token = randomBytes(32).toString("base64url");
    const file: TokensFile = { tokens: [{ token, roles: ["admin"], name: "created by wk serve" }] };
    writeFileSync(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    return { tokens: new Tokens(file), token };
  }

  /** The roles of the bearer token in an Authorization header; 401 when it is missing or unknown. */
  rolesOf(authorization: string | undefined): ReadonlySet<Role> {
    return this.identify(authorization).roles;
  }

  /** Who the bearer token in an Authorization header is (what an MCP call journals as its origin); 401 when it is missing or unknown. */
  identify(authorization: string | undefined): TokenIdentity {
    const m = /^Bearer (\S+)$/.exec(authorization ?? "");
    if (m === null) throw new HttpError(401, "auth.missing_token", "send an Authorization: Bearer <token> header");
    const d = digest(m[1]!);
    let found: TokenIdentity | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found ??= { roles: e.roles, name: e.name };
    if (found === undefined)
      throw new HttpError(401, "auth.bad_token", "the bearer token is not one this server accepts");
    return found;
  }

  /** Refuses (403) a token without `role` (admin has every role); else who it is. */
  require(authorization: string | undefined, role: Role): TokenIdentity {
    const who = this.identify(authorization);
    if (!who.roles.has(role) && !who.roles.has("admin"))
      throw new HttpError(403, "auth.forbidden", `this token lacks the ${role} role`);
    return who;
  }
}
