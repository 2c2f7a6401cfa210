/**
 * @module Types of tools/build/console.mjs (plain JavaScript, so `npm install` can run it), for
 * the TypeScript that imports it (the console's browser test).
 */

/** The console's default output directory (`dist/console`). */
export declare const defaultConsoleOut: string;

/** Bundles the console into `outdir`; `built: false` with the reason when esbuild is not installed. */
export declare function buildConsole(opts?: {
  outdir?: string;
}): Promise<{ built: true; outdir: string } | { built: false; reason: string }>;
