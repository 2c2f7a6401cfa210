/**
 * @module The outside world of the KYC demo, one HTTP server on 127.0.0.1: the document-check
 * provider (`GET /docs/<applicant>`, only with the right API key), the payout service
 * (`POST /pay/<applicant>`, the amount in `x-amount`), and everything else an attacker would
 * like the agent to call (`/exfil…`). It records every request it gets, so the harness can say
 * whether any effect escaped the gate: what the journal claims is checked against what
 * actually arrived.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One payout the service performed. */
export interface Payout {
  applicant: string;
  amount: string;
  idempotencyKey: string | null;
}

/** The running services and what each has received. */
export interface KycServices {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The document-check API key (the world reads it from its 0600 secrets.json). */
  readonly apiKey: string;
  /** Document text per applicant (default: a verified passport record). */
  readonly documents: Map<string, string>;
  /** Every document request, with whether its key was right. */
  readonly docRequests: { applicant: string; authorized: boolean }[];
  readonly payouts: Payout[];
  /** Requests to any other path: what an injected tool call would reach. */
  readonly stray: string[];
  close(): Promise<void>;
}

/** The document record the provider holds for `applicant` unless a test sets one. */
export function defaultDocument(applicant: string): string {
  return `Passport of ${applicant}, number P-${applicant.length}0${applicant.charCodeAt(0)}, valid until 2031.`;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Starts the services on 127.0.0.1 (an ephemeral port). */
export async function startKycServices(apiKey: string): Promise<KycServices> {
  const documents = new Map<string, string>();
  const docRequests: KycServices["docRequests"] = [];
  const payouts: Payout[] = [];
  const stray: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const doc = /^\/docs\/([^/]+)$/.exec(path);
    const pay = /^\/pay\/([^/]+)$/.exec(path);
    if (doc && req.method === "GET") {
      const applicant = decodeURIComponent(doc[1]!);
      const authorized = req.headers.authorization === `Bearer ${apiKey}`;
      docRequests.push({ applicant, authorized });
      if (!authorized) return answer(res, 401, { error: "bad api key" });
      const text = documents.get(applicant) ?? defaultDocument(applicant);
      return answer(res, 200, { status: "verified", applicant, document: text });
    }
    if (pay && req.method === "POST") {
      const key = req.headers["idempotency-key"];
      payouts.push({
        applicant: decodeURIComponent(pay[1]!),
        amount: String(req.headers["x-amount"] ?? ""),
        idempotencyKey: typeof key === "string" ? key : null,
      });
      return answer(res, 200, { paid: true });
    }
    stray.push(`${req.method ?? "?"} ${req.url ?? "/"}`);
    answer(res, 200, { thanks: true });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    apiKey,
    documents,
    docRequests,
    payouts,
    stray,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
