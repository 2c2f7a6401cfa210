/**
 * @module What the console remembers: the API token in sessionStorage (asked once per tab,
 * gone when the tab closes, never put in a URL), and the approver's key in memory only: it is
 * read from a file the approver picks and is lost on reload or sign-out, never stored or sent.
 */
import { ed25519 } from "@noble/curves/ed25519.js";

const TOKEN_KEY = "worldkernel.console.token";

/** The token this tab signed in with, or null. */
export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keeps the token for this tab. */
export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forgets the token and the approver key. */
export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  approver = null;
}

/** An approver's ed25519 key, loaded from their key file. */
export interface ApproverKey {
  publicKeyHex: string;
  secretKey: Uint8Array;
  /** The file it came from (shown, so the approver knows which key signs). */
  file: string;
}

let approver: ApproverKey | null = null;

/** The loaded approver key, or null. */
export function approverKey(): ApproverKey | null {
  return approver;
}

/** Forgets the approver key. */
export function forgetApproverKey(): void {
  approver?.secretKey.fill(0);
  approver = null;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses a key file (`{"kind":"ed25519","public_key","secret_key"}`) and keeps it; throws saying what is wrong. */
export function loadApproverKey(text: string, file: string): ApproverKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON: pick an approver key file (wk keys new writes one)`);
  }
  const k = json as { kind?: unknown; public_key?: unknown; secret_key?: unknown };
  if (k.kind !== "ed25519" || typeof k.secret_key !== "string" || !HEX64.test(k.secret_key))
    throw new Error(`${file} is not an ed25519 key file with a secret key (64 hex digits)`);
  const secretKey = fromHex(k.secret_key);
  const publicKeyHex = toHex(ed25519.getPublicKey(secretKey));
  // A file whose halves disagree would sign under a key other than the one it names.
  if (typeof k.public_key === "string" && k.public_key !== publicKeyHex)
    throw new Error(`${file}: its public_key does not belong to its secret_key`);
  forgetApproverKey();
  approver = { publicKeyHex, secretKey, file };
  return approver;
}

/** Signs the exact bytes the server asked for (hex in, hex signature out). */
export function signHex(key: ApproverKey, messageHex: string): string {
  return toHex(ed25519.sign(fromHex(messageHex), key.secretKey));
}

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Bytes of an even-length hex string. */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error("not hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
