/**
 * @module Compile receipts name the versions that really built: looked up by package name
 * through Node's resolution (not a repository path), and the kernel's build caches live in
 * the user's cache directory, never inside the installed package.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { installedVersion, kernelCacheDir } from "../../kernel/packages.js";

const pinned = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;

describe("installed versions", () => {
  it("resolve by package name, including a package whose exports hide package.json", () => {
    for (const name of [
      "wabt",
      "assemblyscript",
      "esbuild",
      "@bytecodealliance/componentize-js",
      "@bytecodealliance/jco",
    ]) {
      expect(installedVersion(name), name).toBe(pinned(name));
    }
    expect(installedVersion("no-such-package-here")).toBe("not-installed");
  });

  it("caches go to WK_CACHE_DIR or the user cache directory, not the package", () => {
    const saved = process.env.WK_CACHE_DIR;
    try {
      process.env.WK_CACHE_DIR = "/tmp/wk-cache-test";
      expect(kernelCacheDir("js")).toBe("/tmp/wk-cache-test/js");
      delete process.env.WK_CACHE_DIR;
      expect(kernelCacheDir("js")).not.toContain("node_modules");
    } finally {
      if (saved === undefined) delete process.env.WK_CACHE_DIR;
      else process.env.WK_CACHE_DIR = saved;
    }
  });
});
