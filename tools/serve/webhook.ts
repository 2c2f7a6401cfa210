/**
 * @module Ingress webhooks of `wk serve`: `POST /v1/worlds/:id/webhooks/:name` appends the
 * JSON body as one event of the webhook's schema, only when its signature header carries the
 * HMAC-SHA256 of the raw body under the webhook's secret (a defsecret of the manifest, read
 * from the world's secret store per request). No bearer token: the HMAC is the sender's
 * credential. A missing or wrong signature is a 401 that names neither the expected MAC nor
 * the secret's value; nothing is journaled. With a `timestamp_header`, the MAC covers
 * `<timestamp>.<body>` and a delivery outside the tolerance of the world's clock is refused:
 * a captured delivery cannot be replayed later (an idempotency header dedupes within it).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { SecretError } from "../../kernel/adapters/errors.js";
import { resolveSecret } from "../../kernel/adapters/secrets/access.js";
import type { SecretStore } from "../../kernel/adapters/secrets/store.js";
import type { AirCatalog } from "../../air/loader.js";
import type { WorldConfig } from "../../kernel/world/config.js";
import type { IngressEvent } from "../../kernel/world/ingress.js";
import { HttpError } from "./errors.js";
import { parseBody } from "./request-body.js";

/** One webhook's settings (config.json `webhooks.<name>`). */
export type WebhookConfig = NonNullable<WorldConfig["webhooks"]>[string];

/** The signature header when the webhook does not name one. */
export const DEFAULT_SIGNATURE_HEADER = "X-Signature-256";

/** How far a timestamped delivery may be from the server's clock when the webhook does not say (s). */
export const DEFAULT_TOLERANCE_S = 300;

/** The bytes a timestamped delivery's MAC covers: `<timestamp>.<body>`. */
export function timestampedBody(timestamp: string, body: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`${timestamp}.`), body]);
}

/** The hex HMAC-SHA256 of `body` under `key` (what a sender puts in the header, optionally after `sha256=`). */
export function webhookSignature(key: string, body: Uint8Array): string {
  return createHmac("sha256", key).update(body).digest("hex");
}

/** True when `header` (`sha256=<hex>` or `<hex>`) is the HMAC of `body` under `key`; compared in constant time. */
export function verifySignature(key: string, body: Uint8Array, header: string | undefined): boolean {
  if (header === undefined) return false;
  const hex = header.trim().replace(/^sha256=/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const expected = createHmac("sha256", key).update(body).digest();
  return timingSafeEqual(Buffer.from(hex, "hex"), expected);
}

/** What the route needs of a hosted world. */
export interface WebhookWorld {
  config: WorldConfig;
  catalog: AirCatalog;
  secrets: SecretStore;
}

/**
 * Checks a delivery and returns the event to append: 404 for an unknown webhook, 503 when its
 * secret cannot be read (an operator fault, named), 401 for a missing or wrong signature.
 */
export function webhookEvent(
  w: WebhookWorld,
  name: string,
  body: Uint8Array,
  header: (name: string) => string | undefined,
  nowS: bigint,
): IngressEvent {
  const cfg = w.config.webhooks?.[name];
  if (cfg === undefined)
    throw new HttpError(404, "webhook.unknown", `this world has no webhook ${JSON.stringify(name)}`, { path: name });
  let key: string;
  try {
    key = resolveSecret(w.catalog.secrets, cfg.secret, w.secrets).value;
  } catch (e) {
    if (!(e instanceof SecretError)) throw e;
    throw new HttpError(503, "webhook.secret_unavailable", `webhook ${name}: ${e.message}`, { path: name });
  }
  const sigHeader = cfg.signature_header ?? DEFAULT_SIGNATURE_HEADER;
  const ts = cfg.timestamp_header === undefined ? undefined : header(cfg.timestamp_header)?.trim();
  if (cfg.timestamp_header !== undefined && (ts === undefined || !/^\d{1,12}$/.test(ts)))
    throw new HttpError(401, "webhook.bad_timestamp", `the ${cfg.timestamp_header} header must be Unix seconds`, {
      path: cfg.timestamp_header,
    });
  const signed = ts === undefined ? body : timestampedBody(ts, body);
  if (!verifySignature(key, signed, header(sigHeader)))
    throw new HttpError(401, "webhook.bad_signature", `the ${sigHeader} header is not the HMAC-SHA256 of the body`, {
      path: sigHeader,
    });
  // Only a correctly signed delivery learns how far its time is from the server's.
  if (ts !== undefined && cfg.timestamp_header !== undefined) {
    const tolerance = BigInt(cfg.tolerance_s ?? DEFAULT_TOLERANCE_S);
    const skew = BigInt(ts) - nowS;
    if (skew > tolerance || -skew > tolerance)
      throw new HttpError(
        401,
        "webhook.stale_timestamp",
        `the ${cfg.timestamp_header} header is ${skew < 0n ? -skew : skew} s from the server's clock, more than the ${tolerance} s allowed`,
        { path: cfg.timestamp_header },
      );
  }
  const value = parseBody(body, z.unknown());
  const idHeader = cfg.idempotency_header;
  const delivery = idHeader === undefined ? undefined : header(idHeader);
  if (idHeader !== undefined && delivery !== undefined && (delivery.length === 0 || delivery.length > 400))
    throw new HttpError(400, "http.bad_header", `${idHeader} must be 1 to 400 characters`, { path: idHeader });
  // Scoped to the webhook, so a delivery id can never collide with a client's own keys.
  return { schema: cfg.schema, json: value, ...(delivery ? { idempotencyKey: `webhook:${name}:${delivery}` } : {}) };
}
