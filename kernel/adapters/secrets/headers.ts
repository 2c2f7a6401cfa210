/**
 * @module Secret references in HTTP header values: an intent writes `{secret:NAME}` in a
 * header's value (`Authorization: Bearer {secret:acme/doc_api@1}`) and the adapter, at
 * dispatch, replaces it with the value — only when the grant's `secrets.headers` lists NAME
 * for that header. A reference anywhere else (URL, body, another header) is never expanded,
 * so a module cannot steer a secret to a place the grant did not choose. Pure: the gate's
 * check and the adapter's share it.
 */
import type { GrantSecrets } from "../../../air/schemas/defs.js";

/** `{secret:namespace/Name@N}` (the AIR name grammar). */
const REF = /\{secret:([a-z][a-z0-9._-]*\/[A-Za-z][A-Za-z0-9._-]*@[1-9][0-9]*)\}/g;

/** One reference: the header it sits in and the secret it names. */
export interface HeaderSecretRef {
  header: string;
  secret: string;
}

/** Every secret reference in `headers`, in order. */
export function headerSecretRefs(headers: Readonly<Record<string, string>>): HeaderSecretRef[] {
  return Object.entries(headers).flatMap(([header, v]) => [...v.matchAll(REF)].map((m) => ({ header, secret: m[1]! })));
}

/** The first reference the grant does not allow (header names compare case-insensitively), or null. */
export function disallowedRef(
  refs: readonly HeaderSecretRef[],
  grant: GrantSecrets | undefined,
): HeaderSecretRef | null {
  const allowed = new Map(Object.entries(grant?.headers ?? {}).map(([h, names]) => [h.toLowerCase(), names]));
  return refs.find((r) => !(allowed.get(r.header.toLowerCase()) ?? []).includes(r.secret)) ?? null;
}

/** `value` with each reference replaced by what `lookup` gives for its secret name. */
export function expandRefs(value: string, lookup: (secret: string) => string): string {
  return value.replace(REF, (_m, name: string) => lookup(name));
}
