/**
 * @module Debian's Chromium, headless, as the console test and the console bench launch it:
 * with the background-networking switches off, since this machine's closed network refuses
 * Chromium's own connections at every start.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/** Where Debian's chromium package puts the browser (.ci/run installs it). */
export const CHROMIUM = "/usr/bin/chromium";

/** True when the browser is installed here. */
export const haveChromium = (): boolean => existsSync(CHROMIUM);

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
