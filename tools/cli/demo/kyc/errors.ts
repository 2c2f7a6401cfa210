/**
 * @module How the KYC harness names a refusal: the typed error's code and message, which the
 * verdict table shows as what stopped an attack.
 */

/** `code: message` of a typed error (anything else: its message), for `.then(ok, errorCode)`. */
export function errorCode(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
