/**
 * @module `wk create --llm-base-url URL --llm-key-env VAR`: the new world's config.json names
 * an OpenAI-compatible endpoint for the llm.generate adapter (provider openai) and the
 * variable holding its key — never the key. Bad values are usage errors, and nothing is created.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfig } from "../../kernel/world/config.js";
import { ROOT, json, wk } from "./cli-harness.js";

const COUNTER = join(ROOT, "worlds/counter");

describe("wk create --llm-base-url --llm-key-env", () => {
  it("writes adapters.llm {provider, base_url, api_key_env} into config.json; the world opens with it", () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-llm-")), "w");
    const out = json<{ adapters: unknown }>(
      wk(
        "create",
        COUNTER,
        "--world",
        w,
        "--llm-base-url",
        "https://llm.example.com/v1",
        "--llm-key-env",
        "WK_TEST_LLM_KEY",
        "--json",
      ),
    );
    const llm = { provider: "openai", base_url: "https://llm.example.com/v1", api_key_env: "WK_TEST_LLM_KEY" };
    expect(out.adapters).toEqual({ llm });
    expect(JSON.parse(readFileSync(join(w, "config.json"), "utf8"))).toMatchObject({ adapters: { llm } });
    expect(readConfig(join(w, "config.json")).adapters).toEqual({ llm });
    expect(json(wk("send", "demo/CounterEvent@1", '{"key":"a","by":1}', "--world", w, "--json"))).toMatchObject({
      steps: 1,
    });
    const human = wk("create", COUNTER, "--world", join(w, "..", "w2"), "--llm-base-url", "http://127.0.0.1:8080/v1");
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain("llm: openai provider at http://127.0.0.1:8080/v1, no API key");
    expect(readConfig(join(w, "..", "w2", "config.json")).adapters).toEqual({
      llm: { provider: "openai", base_url: "http://127.0.0.1:8080/v1" },
    });
    // A fork keeps the parent's operator settings (it called none of them: issue 25 found them dropped).
    const f = join(w, "..", "fork");
    expect(wk("fork", "--world", w, "--at", "1", "--to", f, "--json").status).toBe(0);
    expect(readConfig(join(f, "config.json"))).toMatchObject({ adapters: { llm }, synchronous: "FULL" });
  }, 60_000);

  it("refuses what is not an http(s) URL, a URL with credentials, a bad variable name, a key without a URL (exit 2, nothing created)", () => {
    const base = mkdtempSync(join(tmpdir(), "wk-llm-"));
    const cases: [string[], string][] = [
      [["--llm-base-url", "not a url"], "absolute URL"],
      [["--llm-base-url", "ftp://llm.example.com"], "http or https"],
      [["--llm-base-url", "https://user:sk-secret@llm.example.com/v1"], "must not carry credentials"],
      [
        ["--llm-base-url", "https://llm.example.com/v1", "--llm-key-env", "lower-case"],
        "--llm-key-env must name an environment variable",
      ],
      [["--llm-key-env", "OPENAI_API_KEY"], "--llm-key-env needs --llm-base-url"],
    ];
    for (const [i, [args, text]] of cases.entries()) {
      const w = join(base, `w${i}`);
      const r = wk("create", COUNTER, "--world", w, ...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(text);
      expect(r.stderr).not.toContain("sk-secret");
      expect(existsSync(w)).toBe(false);
    }
  }, 60_000);
});
