/**
 * @module worlds/governed-counter/README.md, run as written: the lines of its walk-through
 * (the first `sh` block) execute one by one in a single bash, in a scratch project folder laid
 * out like the repository (package.json, worlds/governed-counter, the committed counter
 * binaries), with `/tmp/gc` moved to a temp dir and `npx wk` running this checkout's CLI.
 * Each line's exit code and output is checked: keys, the copy naming the approver, create,
 * events, the patch's base, propose (wasm shorthand), shadow, a refused and a valid approval,
 * apply, the C module stepping, replay and verify.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./cli-harness.js";

const README = join(ROOT, "worlds/governed-counter/README.md");

/** The command lines of the README's first sh block (comments and blank lines dropped). */
function walkThrough(): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readFileSync(README, "utf8"));
  if (!block) throw new Error("no sh block in the README");
  return block[1]!
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The walk-through as the test expects it (so a change to the README shows up here). */
const EXPECTED = [
  "mkdir -p /tmp/gc",
  "npx wk keys new /tmp/gc/developer.key",
  "cp -r worlds/governed-counter worlds/my-governed-counter",
  'sed -i "s/0\\{64\\}/$(npx wk keys new /tmp/gc/approver.key)/" worlds/my-governed-counter/policy.air.json',
  "npx wk air check worlds/my-governed-counter",
  "npx wk create worlds/my-governed-counter --world /tmp/gc/world",
  `npx wk send demo/CounterEvent@1 '{"key":"alice","by":5}' --world /tmp/gc/world`,
  `npx wk send demo/CounterEvent@1 '{"key":"bob","by":150}' --world /tmp/gc/world`,
  'sed -i "s/BASE_MANIFEST_HASH/$(npx wk info --world /tmp/gc/world --json | jq -r .manifest.hash)/" worlds/my-governed-counter/upgrade-to-c.patch.json',
  "ID=$(npx wk propose worlds/my-governed-counter/upgrade-to-c.patch.json --key /tmp/gc/developer.key --world /tmp/gc/world)",
  'npx wk shadow "$ID" --world /tmp/gc/world',
  'npx wk approve "$ID" --key /tmp/gc/developer.key --world /tmp/gc/world    # fails (exit 1): kernel.bad_approval',
  'npx wk approve "$ID" --key /tmp/gc/approver.key --world /tmp/gc/world',
  'npx wk apply "$ID" --world /tmp/gc/world',
  `npx wk send demo/CounterEvent@1 '{"key":"alice","by":1}' --world /tmp/gc/world`,
  'npx wk state demo/Counter@1 alice --world /tmp/gc/world                   # → {"count": 6, "events": 2}',
  "npx wk replay --world /tmp/gc/world",
  "npx wk verify --world /tmp/gc/world",
  "npx wk log --kind step --json --world /tmp/gc/world | jq -c '.[] | {seq, fuel: .body.fuel}'",
];

interface Step {
  line: string;
  rc: number;
  out: string;
  err: string;
}

/** Runs `lines` in one bash (variables carry over), capturing each line's exit code and output. */
function runLines(lines: string[], cwd: string, gc: string): { steps: Step[]; vars: Record<string, string> } {
  const log = join(gc, "..", "log");
  mkdirSync(log);
  const local = lines.map((l) => l.split("/tmp/gc").join(gc));
  const script = [
    // `npx wk` as in a checkout: bin/wk.js of this repository, whatever the cwd.
    `npx() { if [ "$1" = wk ]; then shift; node ${JSON.stringify(join(ROOT, "bin/wk.js"))} "$@"; else command npx "$@"; fi; }`,
    ...local.map((l, i) => `{ ${l}\n} >${log}/${i}.out 2>${log}/${i}.err; echo $? >${log}/${i}.rc`),
    `printf '%s' "$ID" >${log}/ID`,
  ].join("\n");
  const r = spawnSync("bash", ["-c", script], { cwd, encoding: "utf8", timeout: 600_000 });
  expect(r.status, r.stderr).toBe(0);
  const read = (f: string) => (existsSync(join(log, f)) ? readFileSync(join(log, f), "utf8") : "");
  const steps = lines.map((line, i) => ({
    line,
    rc: Number(read(`${i}.rc`).trim() || "-1"),
    out: read(`${i}.out`),
    err: read(`${i}.err`),
  }));
  return { steps, vars: { ID: read("ID") } };
}

describe("worlds/governed-counter: the README walk-through", () => {
  it("runs as written: an upgrade to the C counter, proposed, shadow-run, approved, applied, replayed", () => {
    const lines = walkThrough();
    expect(lines).toEqual(EXPECTED);

    // A scratch project laid out like the repository.
    const project = mkdtempSync(join(tmpdir(), "wk-governed-example-"));
    writeFileSync(join(project, "package.json"), '{ "name": "scratch", "private": true }\n');
    for (const f of ["modules/assemblyscript/counter/counter.wasm", "modules/c/counter/counter.wasm"]) {
      mkdirSync(join(project, f, ".."), { recursive: true });
      copyFileSync(join(ROOT, f), join(project, f));
    }
    cpSync(join(ROOT, "worlds/governed-counter"), join(project, "worlds/governed-counter"), { recursive: true });
    const gc = join(mkdtempSync(join(tmpdir(), "wk-governed-gc-")), "gc");

    const { steps, vars } = runLines(lines, project, gc);
    const at = (i: number, rc = 0): Step => {
      const s = steps[i]!;
      expect(s.rc, `${s.line}\n${s.err}${s.out}`).toBe(rc);
      return s;
    };
    const hex64 = /^[0-9a-f]{64}$/;

    at(0);
    expect(at(1).out.trim()).toMatch(hex64); // the developer's public key
    at(2);
    at(3);
    const approverPub = (JSON.parse(readFileSync(join(gc, "approver.key"), "utf8")) as { public_key: string })
      .public_key;
    const policy = JSON.parse(readFileSync(join(project, "worlds/my-governed-counter/policy.air.json"), "utf8")) as {
      approvers: { public_key: string }[];
      threshold: number;
    };
    expect(policy).toMatchObject({ approvers: [{ public_key: approverPub }], threshold: 1 });
    // The shipped example still names the placeholder.
    expect(readFileSync(join(project, "worlds/governed-counter/policy.air.json"), "utf8")).toContain("0".repeat(64));

    const manifest = /manifest (sha256:[0-9a-f]{64})/.exec(at(4).out)![1]!;
    expect(at(4).out).toContain("ok: 6 defs");
    expect(at(5).out).toContain(`manifest ${manifest}`);
    expect(at(6).out).toContain("1 step(s), 0 failed");
    expect(at(7).out).toContain("1 step(s), 0 failed, 3 entries"); // bob's milestone
    at(8);
    const patch = JSON.parse(
      readFileSync(join(project, "worlds/my-governed-counter/upgrade-to-c.patch.json"), "utf8"),
    ) as { base_manifest_hash: string };
    expect(patch.base_manifest_hash).toBe(manifest);

    at(9);
    const id = vars.ID!;
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(at(10).out).toContain(`shadow of ${id}: 2 event(s) re-run under the proposal since seq 0`);
    expect(at(10).out).toMatch(/ 0 cell\(s\) end differently, 0 entr\(ies\) differ, 0 failed step\(s\)/);
    expect(at(11, 1).err).toContain("kernel.bad_approval"); // the developer is no approver
    expect(at(12).out).toContain(`approved ${id}`);
    const applied = /applied .* manifest (sha256:[0-9a-f]{64})/.exec(at(13).out)![1]!;
    expect(applied).not.toBe(manifest);
    expect(at(14).out).toContain("1 step(s), 0 failed");
    expect(JSON.parse(at(15).out)).toEqual({ count: 6, events: 2 });
    expect(at(16).out).toMatch(/^ok: /);
    expect(at(17).out).toMatch(/^ok: /);
    // Three steps: alice and bob under AssemblyScript, alice again under C (far less fuel).
    const fuel = at(18)
      .out.trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { fuel: number }).fuel);
    expect(fuel).toHaveLength(3);
    expect(Math.min(fuel[0]!, fuel[1]!)).toBeGreaterThan(100_000);
    expect(fuel[2]!).toBeLessThan(100_000);
  }, 600_000);
});
