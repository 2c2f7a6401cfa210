/**
 * @module Reading effect receipts in AssemblyScript modules: one line that says why a receipt
 * is not `ok` (`<what> <status>: <code>: <message or reason>`), as the payloads of `error`,
 * `timeout`, `denied` and `expired` receipts carry them. Its own file, so modules that do not
 * import it compile to the same bytes.
 */
import { Cbor, Kind } from "./cbor";

/** `<what> <status>: <code>: <message or reason>` of a receipt that is not ok (`what` may be empty). */
export function receiptFailure(what: string, status: string, payload: Cbor): string {
  let s = what.length > 0 ? what + " " + status : status;
  const code = payload.get("code");
  if (code !== null && code.kind == Kind.Text) s += ": " + code.text;
  let why = payload.get("message");
  if (why === null) why = payload.get("reason");
  if (why !== null && why.kind == Kind.Text) s += ": " + why.text;
  return s;
}
