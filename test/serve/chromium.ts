/**
 * @module Debian's Chromium, headless, as the console test and the console bench launch it:
 * with the background-networking switches off, since this machine's closed network refuses
 * Chromium's own connections at every start.
 */
import { existsSync } from "node:fs";
import type { Browser, Locator, Page } from "playwright-core";

/** Where Debian's chromium package puts the browser (.ci/run installs it). */
export const CHROMIUM = "/usr/bin/chromium";

/** True when the browser is installed here. */
export const haveChromium = (): boolean => existsSync(CHROMIUM);

/** A browser suite's title, saying why it is skipped when the browser is missing (never in CI: the suites throw there). */
export const chromiumTitle = (title: string): string =>
  haveChromium() ? title : `${title} (skipped: ${CHROMIUM} is missing; apt-get install chromium)`;

/** Launches headless Chromium through playwright-core. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Waits for `l` to be visible; the console's error banner showing instead fails at once with its text. */
export async function seeOrBanner(page: Page, l: Locator, timeout: number): Promise<void> {
  const banner = page.locator("#banner");
  const err = banner.waitFor({ state: "visible", timeout }).then(
    async () => `the console shows an error: ${await banner.innerText()}`,
    () => null,
  );
  const seen = l
    .first()
    .waitFor({ state: "visible", timeout })
    .then(() => null);
  const why = await Promise.race([seen, err]);
  if (why !== null) throw new Error(why);
}
