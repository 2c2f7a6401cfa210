/**
 * @module The HTTP face of worldkernel's one error shape: every refusal is JSON
 * `{"error": {"code", "message", "path"?, …}}` with a status chosen by the code's family, so
 * a client branches on `code` and a person reads `message` and the place it names.
 */
import { WorldkernelError, type ErrorData } from "../../air/errors.js";

/** An error the HTTP layer raises itself (auth, routing, request shape). */
export class HttpError extends WorldkernelError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    fields: { path?: string } = {},
  ) {
    super(code, message, fields);
    this.name = "HttpError";
  }
}

const BY_CODE: Record<string, number> = {
  "kernel.idempotency_conflict": 409,
  "kernel.not_pending": 409,
  "kernel.unknown_intent": 404,
  "kernel.bad_approval": 403,
  "governance.unknown_proposal": 404,
  "governance.already_applied": 409,
  "governance.no_shadow": 409,
  "governance.failed_shadow": 409,
  "governance.not_approved": 409,
  "governance.stale_base": 409,
  "governance.denied": 409,
  "governance.bad_reason": 400,
  "journal.lease_lost": 503,
  "journal.lease_held": 503,
  "analysis.not_found": 404,
};

/** The status a coded error answers with: 4xx for what the caller can fix, 5xx for the server's faults. */
export function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string") return 500;
  if (code in BY_CODE) return BY_CODE[code]!;
  if (/^(air|cbor|crypto)\./.test(code)) return 400;
  if (/^kernel\.(bad_|unknown_|invalid_)/.test(code)) return 400;
  if (/^governance\./.test(code)) return 409;
  return 500;
}

/** The JSON body of a refusal; an uncoded error is `kernel.internal` and its message says only that. */
export function errorBody(e: unknown): { error: ErrorData } {
  if (e instanceof WorldkernelError) {
    const { cause: _cause, status: _status, ...data } = e.toJSON();
    return { error: data };
  }
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return { error: { code, message: (e as Error).message } };
  return { error: { code: "kernel.internal", message: "internal error (see the server's log)" } };
}
