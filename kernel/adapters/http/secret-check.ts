/**
 * @module The gate's pure check of an `http.request`'s secret references (`secrets-v1`): each
 * `{secret:NAME}` in a header value must be listed for that header in the grant's
 * `secrets.headers`, and the grant must name its hosts. No value is read here: the gate
 * decides on names alone; the adapter resolves the values at dispatch and checks again.
 */
import type { CborValue } from "../../../air/cbor/value.js";
import type { CapGrant } from "../../../air/schemas/defs.js";
import { AdapterError } from "../errors.js";
import { allowlist, record, textMap } from "../params.js";
import { disallowedRef, headerSecretRefs } from "../secrets/headers.js";

const KIND = "http.request";

/** Why a request's secret references are refused, with a stable code. */
export interface SecretDenial {
  code: "secret_not_allowed" | "invalid_params";
  message: string;
}

/** Null when every secret reference in the headers is allowed by `grant`, else the first refusal. */
export function checkHttpSecrets(
  params: CborValue,
  grantParams: CborValue,
  grant: CapGrant | undefined,
): SecretDenial | null {
  let headers: Record<string, string>;
  try {
    headers = textMap(KIND, record(KIND, params), "headers");
  } catch (e) {
    if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
    throw e;
  }
  const refs = headerSecretRefs(headers);
  if (refs.length === 0) return null;
  const bad = disallowedRef(refs, grant?.secrets);
  if (bad)
    return {
      code: "secret_not_allowed",
      message: `secret ${bad.secret} is not allowed in header ${bad.header} by grant ${grant?.name ?? "?"} (secrets.headers)`,
    };
  if (allowlist(KIND, grantParams, "hosts", "string") === null)
    return {
      code: "secret_not_allowed",
      message: `grant ${grant?.name ?? "?"} names no hosts; a secret is only sent to hosts a grant lists`,
    };
  return null;
}
