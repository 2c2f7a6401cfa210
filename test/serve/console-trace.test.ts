/**
 * @module The console's causal tree and explain panel in headless Chromium, over a real server
 * (a child process), a read-only token and a real world (test/serve/trace-fixture.ts): selecting
 * the gate-denied fetch's intent in the journal shows its whole cascade indented, the intent
 * marked, and the explanation (trigger, state seen, reasoning, the gate's denial with its code,
 * no approvals, the denied receipt); clicking a node selects it; the approver's refusal shows
 * under Approvals; a reload keeps the selection; the key's markup stays text. Screenshots go to
 * test-artifacts/console/. Needs Debian's chromium (skipped without it, failed under CI=true).
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "../../tools/build/console.mjs";
import type { Trace } from "../../tools/serve/client.js";
import { CHROMIUM, chromiumTitle, haveChromium, launchChromium, seeOrBanner } from "./chromium.js";
import { clients, killLeftovers, startServe, writeTokens, type Served } from "./server-fixture.js";
import { DENIED_KEY, tracedWorld, type TracedWorld } from "./trace-fixture.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const ARTIFACTS = join(ROOT, "test-artifacts/console");
const HAVE_CHROMIUM = haveChromium();
/** Safety nets only: every wait ends as soon as the page shows what it waits for. */
const WAIT = 30_000;
const STEP = 120_000;

afterAll(() => killLeftovers());

if (!HAVE_CHROMIUM && process.env.CI === "true")
  describe("the console's causal tree in headless Chromium", () => {
    it("needs Chromium", () => {
      throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
    });
  });

describe.skipIf(!HAVE_CHROMIUM)(chromiumTitle("the console's causal tree in headless Chromium"), () => {
  let world: TracedWorld;
  let s: Served;
  let id = "";
  let readToken = "";
  let denied: Trace;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const base = mkdtempSync(join(tmpdir(), "wk-console-trace-"));
    const built = await buildConsole({ outdir: join(base, "console") });
    if (!built.built) throw new Error(built.reason);
    world = await tracedWorld();
    const t = writeTokens(base);
    readToken = t.tokens.read;
    s = await startServe([world.dir], t.file, [], { WK_CONSOLE_DIR: built.outdir });
    id = s.worlds[0]!;
    denied = await clients(s.url, t.tokens).read.trace(id, world.denied);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.setDefaultTimeout(WAIT);
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const node = (seq: number) => page.locator(`#trace button.trace-node[data-seq="${seq}"]`);
  const selectedNode = () => page.locator("#trace li.selected > button.trace-node");
  const field = (name: string) => page.locator(`#explain dd[data-field="${name}"]`);

  /** Waits for `l` to be visible; an error banner instead fails at once with its text. */
  const see = (l: Locator) => seeOrBanner(page, l, WAIT);

  it(
    "selecting the denied fetch's intent shows its cascade, marked, and why it was denied",
    async () => {
      await page.goto(`${s.url}/console/`);
      await page.fill("#token", readToken);
      await page.click("#signin button[type=submit]");
      await see(page.locator(`#worlds tr[data-world-id="${id}"]`));
      await page.goto(`${s.url}/console/#/worlds/${encodeURIComponent(id)}/journal`);
      const row = page.locator(`#journal tr.entry[data-seq="${denied.selected}"]`);
      await see(row);
      await row.click();

      await see(selectedNode());
      expect(await selectedNode().getAttribute("data-seq")).toBe(String(denied.selected));
      expect(await selectedNode().getAttribute("data-kind")).toBe("effect_intent");
      expect(await page.locator("#trace button.trace-node").count()).toBe(denied.nodes);
      // Indented: the intent sits three levels under the ingress event (event → step → intent).
      expect(await selectedNode().evaluate((b) => b.closest("ul.trace-tree")!.querySelectorAll("li").length)).toBe(
        denied.nodes,
      );
      await see(node(denied.tree.seq));
      expect(await node(denied.tree.seq).innerText()).toContain(DENIED_KEY);
      await see(page.locator("#trace button.trace-node[data-kind=policy_decision]", { hasText: "host_not_allowed" }));
      await see(page.locator("#journal tr.entry.selected"));
      // The key's markup is text, never elements.
      expect(await page.locator("#trace b, #explain b").count()).toBe(0);

      await see(page.locator(`#explain[data-intent-id="${world.denied}"]`));
      expect(await field("root").innerText()).toContain(DENIED_KEY);
      expect(await field("trigger").innerText()).toContain(`#${denied.tree.seq}`);
      expect(await field("state").innerText()).toBe("none (a new cell)");
      expect(await field("reasoning").innerText()).toContain("none recorded");
      expect(await field("decision").innerText()).toMatch(/gate: deny at grant \(host_not_allowed\)/);
      expect(await field("approvals").innerText()).toBe("none");
      expect(await field("result").innerText()).toMatch(/receipt denied/);
      expect(await field("follow-up").innerText()).toMatch(/step demo\/A@1/);
      await shot("11-trace-explain");
      expect(pageErrors).toEqual([]);
    },
    STEP,
  );

  it(
    "a click on a node selects it; the approver's refusal shows under Approvals; a reload keeps the selection",
    async () => {
      await node(denied.tree.seq).click();
      await see(page.locator(`#trace li.selected > button.trace-node[data-seq="${denied.tree.seq}"]`));
      await page.locator("#explain").waitFor({ state: "detached" }); // an event has no explanation
      expect(page.url()).toContain(`seq=${denied.tree.seq}`);
      await see(page.locator(`#journal tr.entry.selected[data-seq="${denied.tree.seq}"]`));

      await page.reload();
      await see(page.locator(`#trace li.selected > button.trace-node[data-seq="${denied.tree.seq}"]`));

      const held = await clients(s.url, { ingest: "", read: readToken, approve: "", admin: "" }).read.trace(
        id,
        world.held,
      );
      await page.locator(`#journal tr.entry[data-seq="${held.selected}"]`).click();
      await see(page.locator(`#explain[data-intent-id="${world.held}"]`));
      expect(await field("decision").innerText()).toContain("gate: require_approval");
      expect(await field("approvals").innerText()).toContain("decided: deny");
      expect(await field("root").innerText()).toContain('idempotency key "order-7"');
      await page.locator(`#explain dd[data-field="root"] button`).click();
      await see(page.locator(`#trace li.selected > button.trace-node[data-seq="${held.tree.seq}"]`));
      await shot("12-trace-selected");
      expect(pageErrors).toEqual([]);
    },
    STEP,
  );
});
