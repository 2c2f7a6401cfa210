/**
 * @module The web console of `wk serve` in headless Chromium, over a real server (a child
 * process) and real worlds: sign in with a token, the worlds list with verify status, the
 * journal (expand, filter, follow live over the event stream), cell states, approving and
 * denying held intents with an approver key file signed in the browser (the effect then runs
 * against a local HTTP server, once), receipts and a downloaded bundle that verifies offline,
 * proposals' shadow reports with their authority changes (a widening one highlighted), one
 * approved and another denied. Each page is screenshotted into test-artifacts/console/. Needs
 * Debian's chromium (.ci/run installs it; under CI=true its absence fails the suite instead of
 * skipping it).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumTitle, haveChromium, launchChromium, seeOrBanner } from "./chromium.js";
import { buildConsole } from "../../tools/build/console.mjs";
import { WorldkernelClient } from "../../tools/serve/client.js";
import { approverKey, fetcherWorld, governedWorld } from "./console-fixture.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "tools/cli/main.ts");
const ARTIFACTS = join(ROOT, "test-artifacts/console");
const HAVE_CHROMIUM = haveChromium();
const IN_CI = process.env.CI === "true";
/** Safety nets only: every wait ends as soon as the page shows what it waits for. */
const WAIT = 30_000;
const STEP = 120_000;

describe("the console's sources", () => {
  it("type-check as browser code (their own tsconfig: DOM, no Node)", () => {
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", join(ROOT, "tools/serve/console/tsconfig.json")], {
      encoding: "utf8",
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

if (!HAVE_CHROMIUM && IN_CI)
  describe("the web console in headless Chromium", () => {
    it("needs Chromium", () => {
      throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
    });
  });

describe.skipIf(!HAVE_CHROMIUM)(chromiumTitle("the web console in headless Chromium"), () => {
  const hits: string[] = [];
  const target = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.end("hello");
  });
  let base = "";
  let server: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let url = "";
  let token = "";
  let api: WorldkernelClient;
  let browser: Browser | undefined;
  let page: Page;
  let keyFile = "";
  let secretHex = "";
  let fetcher = { id: "", dir: "", held: "" };
  let governed = { id: "", dir: "", failing: "", clean: "", widening: "" };
  const pageErrors: string[] = [];
  const sentBodies: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    base = mkdtempSync(join(tmpdir(), "wk-console-"));
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/held`;

    // The console as `npm run build:dist` builds it, into a directory of this run's own.
    const built = await buildConsole({ outdir: join(base, "console") });
    if (!built.built) throw new Error(built.reason);

    const approver = approverKey(base);
    keyFile = approver.file;
    secretHex = (JSON.parse(readFileSync(keyFile, "utf8")) as { secret_key: string }).secret_key;
    const f = await fetcherWorld(base, approver.key, targetUrl);
    const g = await governedWorld(approver.key);

    token = `console-test-${Math.random().toString(36).slice(2)}-token`;
    const tokens = join(base, "tokens.json");
    writeFileSync(tokens, JSON.stringify({ tokens: [{ token, roles: ["admin"] }] }), { mode: 0o600 });
    const p = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "serve", "--world", f.dir, "--world", g.dir, "--port", "0", "--tokens", tokens],
      { env: { ...process.env, WK_CONSOLE_DIR: built.outdir }, stdio: ["ignore", "pipe", "inherit"] },
    );
    server = p;
    exited = new Promise((r) => p.once("exit", (code) => r(code)));
    url = await new Promise<string>((resolve, reject) => {
      p.once("exit", (code) => reject(new Error(`wk serve exited ${code} before listening`)));
      const lines = createInterface({ input: p.stdout! });
      lines.on("line", (line) => {
        const r = JSON.parse(line) as { event: string; url?: string };
        if (r.event === "listening") resolve(r.url!);
      });
    });
    api = new WorldkernelClient({ baseUrl: url, token });
    const worlds = await api.worlds();
    const idOf = (dir: string) => worlds.find((w) => w.dir === dir)!.id;
    fetcher = { id: idOf(f.dir), dir: f.dir, held: f.held };
    governed = { id: idOf(g.dir), dir: g.dir, failing: g.failing, clean: g.clean, widening: g.widening };

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
    });
    page.on("request", (r) => sentBodies.push(`${r.url()} ${r.postData() ?? ""}`));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server?.exitCode === null) {
      server.kill("SIGTERM");
      await exited;
    }
    target.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  /** Waits for `l` to be visible; an error banner instead fails at once with its text. */
  const see = (l: Locator) => seeOrBanner(page, l, WAIT);

  /** Polls `f` until it holds (a safety-net deadline only). */
  async function until(what: string, f: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT;
    while (!(await f())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const tab = (name: string) => page.locator("nav.tabs a", { hasText: name });

  it(
    "asks for the token once, keeps it out of the URL, and lists the worlds with their verify status",
    async () => {
      await page.goto(`${url}/console/`);
      await see(page.locator("#signin"));
      await shot("01-sign-in");
      await page.fill("#token", token);
      await page.click("#signin button[type=submit]");
      const row = page.locator(`#worlds tr[data-world-id="${fetcher.id}"]`);
      await see(row);
      await see(row.locator("td.verify .badge.ok"));
      await see(page.locator(`#worlds tr[data-world-id="${governed.id}"] td.verify .badge.ok`));
      expect(await row.locator("td").nth(5).innerText()).toBe("1"); // one intent awaits approval
      expect(page.url()).not.toContain(token);
      expect(await page.evaluate("Object.values(sessionStorage)")).toContain(token);
      await shot("02-worlds");
    },
    STEP,
  );

  it(
    "browses the fetcher's journal: expands an entry, filters by kind, follows new entries live",
    async () => {
      await page.click(`#worlds tr[data-world-id="${fetcher.id}"] a >> nth=0`);
      await see(page.locator("#journal tr.entry"));
      const height = (await api.journal(fetcher.id, { limit: 1 })).height;
      await until("every entry is listed", async () => (await page.locator("#journal tr.entry").count()) === height);
      await page.locator("#journal tr.entry").first().click();
      await see(page.locator("#journal tr.detail pre.json", { hasText: '"kind": "genesis"' }));
      await shot("03-journal");

      await page.selectOption("#kind-filter", "policy_decision");
      await see(page.locator('#journal tr.entry[data-kind="policy_decision"]'));
      expect(await page.locator("#journal tr.entry").evaluateAll((rows) => rows.map((r) => r.dataset.kind))).toEqual([
        "policy_decision",
      ]);
      await page.selectOption("#kind-filter", "");
      await see(page.locator('#journal tr.entry[data-kind="genesis"]'));

      await page.check("#follow-live");
      await see(page.locator("#live-status.on"));
      // A second fetch, sent through the API: held like the first, and shown as it is written.
      await api.send(fetcher.id, { schema: "demo/Fetch@1", value: { key: "b", url: "http://127.0.0.1:1/denied" } });
      await see(page.locator('#journal tr.entry.new[data-kind="event"]'));
      await see(page.locator('#journal tr.entry.new[data-kind="policy_decision"]'));
      await shot("04-journal-live");
    },
    STEP,
  );

  it(
    "shows the cell states",
    async () => {
      await tab("Cell states").click();
      await see(page.locator('#cells tr[data-module="demo/Fetcher@1"][data-key="a"]'));
      await see(page.locator('#cells tr[data-key="b"] pre.json', { hasText: '"requested"' }));
      await shot("05-state");
    },
    STEP,
  );

  it(
    "approves one held intent and denies the other, signing in the browser with a key file it never sends",
    async () => {
      await tab("Approvals").click();
      const held = await api.heldIntents(fetcher.id);
      expect(held.map((i) => i.intent_id)).toContain(fetcher.held);
      const other = held.find((i) => i.intent_id !== fetcher.held)!.intent_id;
      const first = page.locator(`#held tr[data-intent-id="${fetcher.held}"]`);
      await see(first);
      expect(await first.locator("button.approve").isDisabled()).toBe(true); // no key yet
      await shot("06-approvals");

      await page.setInputFiles("#approver-key", keyFile);
      await see(page.locator("#key-loaded"));
      await see(first.locator("button.approve:enabled"));
      await first.locator("button.approve").click();
      await see(page.locator("#notice", { hasText: "Approved intent" }));
      await page.locator(`#held tr[data-intent-id="${other}"] button.deny`).click();
      await see(page.locator("#no-held"));
      await shot("07-approvals-decided");

      await until("the approved effect reached the local server", () => hits.length === 1);
      expect(hits).toEqual(["/held"]);
      expect(sentBodies.filter((b) => b.includes(secretHex))).toEqual([]);
    },
    STEP,
  );

  it(
    "shows the receipts (ok and denied) and downloads a bundle that verifies offline",
    async () => {
      await tab("Effects").click();
      const approved = page.locator(`#effects tr[data-intent-id="${fetcher.held}"]`);
      await see(approved.locator("td.receipt .badge", { hasText: "ok" }));
      await see(page.locator("#effects td.receipt .badge", { hasText: "denied" }));
      // The gate held it; the approver's signed decision is the one that stands.
      expect(await approved.locator("td.decision").innerText()).toBe("allow");
      expect(await approved.locator("td").nth(5).innerText()).toMatch(/^approval by [0-9a-f]{16}/);
      await shot("08-effects");

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        approved.locator("button.download").click(),
      ]);
      expect(download.suggestedFilename()).toBe(`receipt-${fetcher.held.replace(/^sha256:/, "").slice(0, 16)}.json`);
      const file = join(ARTIFACTS, "receipt-bundle.json");
      await download.saveAs(file);
      const v = spawnSync(process.execPath, ["--import", "tsx", CLI, "receipt", "verify", file, "--json"], {
        encoding: "utf8",
      });
      expect(v.status, v.stdout + v.stderr).toBe(0);
    },
    STEP,
  );

  it(
    "shows the shadow reports as a diff, approves the clean proposal and denies the failing one",
    async () => {
      await tab("Worlds").click();
      await page.click(`#worlds tr[data-world-id="${governed.id}"] td:nth-child(6) a`);
      const failing = page.locator(`section.proposal[data-proposal-id="${governed.failing}"]`);
      const clean = page.locator(`section.proposal[data-proposal-id="${governed.clean}"]`);
      await see(failing.locator("ul.failures li"));
      await see(failing.locator("table.cells-diff td.after"));
      await see(clean.locator(".summary-line .good", { hasText: "0 failing step(s)" }));
      // Every change of authority is listed; one that widens it is highlighted.
      const widening = page.locator(`section.proposal[data-proposal-id="${governed.widening}"]`);
      await see(clean.locator(".summary-line .authority-count", { hasText: "2 authority change(s)" }));
      await see(clean.locator("table.authority-diff td", { hasText: "$.limits.fuel_per_step" }));
      expect(await clean.locator("table.authority-diff tr.widens").count()).toBe(0);
      await see(widening.locator(".summary-line .authority-count.bad", { hasText: "1 widening" }));
      await see(widening.locator("table.authority-diff tr.widens .badge", { hasText: "widens" }));
      await see(widening.locator("table.authority-diff tr.widens td", { hasText: "$.limits.fuel_per_step" }));
      await see(page.locator("#key-loaded")); // still in this tab's memory
      await shot("09-proposals");

      await clean.locator("button.approve").click();
      await see(clean.locator("h3 .badge", { hasText: "approved" }));

      await failing.locator("input.deny-reason").fill("every step runs out of fuel");
      await failing.locator("button.deny").click();
      await see(failing.locator("h3 .badge", { hasText: "denied" }));
      await see(failing.locator(".denial", { hasText: "every step runs out of fuel" }));
      await shot("10-proposals-decided");

      const statuses = Object.fromEntries(
        (await api.proposals(governed.id)).map((p) => [p.proposal_id, p.status as string]),
      );
      expect(statuses).toEqual({
        [governed.failing]: "denied",
        [governed.clean]: "approved",
        [governed.widening]: "shadowed",
      });
    },
    STEP,
  );

  it(
    "leaves journals that verify, with no error in the page; the server drains on SIGTERM",
    async () => {
      for (const id of [fetcher.id, governed.id]) expect(await api.verify(id), id).toMatchObject({ ok: true });
      expect(pageErrors).toEqual([]);
      server!.kill("SIGTERM");
      expect(await exited).toBe(0);
    },
    STEP,
  );
});
