/**
 * @module The docs' shell blocks, run as written. Every ```sh block of README.md, docs/*.md and
 * worlds/*\/README.md that shows a `wk` (or `npx wk`) command is read from the Markdown itself
 * and run, command by command, in one bash per file, in a scratch project laid out like the
 * repository (package.json, worlds/, modules/ without the Zig toolchain, air/builtins/), with
 * `wk` and `npx wk` on PATH running this checkout's bin/wk.js, every `/tmp/` path moved into a
 * temp dir and an `http.server` port replaced by a free one. Files run in this order, all in the
 * same scratch project: README.md, worlds/*\/README.md, docs/*.md (docs/patches.md continues the
 * governed-counter walk-through).
 *
 * What the Markdown says, the test holds it to:
 * - every command exits 0, unless its comment says `# fails (exit N)` or `# fails (exit N): TEXT`;
 * - a comment `# → OUTPUT` (trailing, or on its own line after the command) is what the command
 *   prints: JSON is compared as JSON (to the whole output or one of its lines, key order aside),
 *   `{a, b, c}` names the keys of the JSON object printed, anything else must appear in the output
 *   (stdout and stderr, whitespace collapsed), `…` standing for anything; other comments are prose;
 * - `<!-- not run: REASON -->` right before a block keeps it out of the run (one test lists every such block with its reason);
 * - `<!-- needs: CMD, … -->` runs the block only when those commands are installed (under CI=true
 *   a missing one fails instead: .ci/run installs them); `postgres` is the test database, whose
 *   URL the blocks read as `$WK_STORE`;
 * - `<!-- save as: PATH -->` before a block of any language writes its text to PATH in the scratch
 *   project, at that point of the file's run (a patch the next block proposes).
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ROOT } from "../world/cli-harness.js";

/** The Markdown files whose blocks run, in the order they run. */
const FILES = [
  "README.md",
  ...readdirSync(join(ROOT, "worlds"))
    .sort()
    .map((d) => `worlds/${d}/README.md`)
    .filter((f) => existsSync(join(ROOT, f))),
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];

interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  heading: string;
  body: string[];
  notRun?: string;
  needs: string[];
  saveAs?: string;
}

/** What a command's comment says it does. */
interface Expectation {
  exit: number;
  output?: string;
}

interface Command {
  /** The command as bash runs it (comment stripped; continuation and here-document lines included). */
  text: string;
  /** Where it is: file:line. */
  at: string;
  expect?: Expectation;
}

const MARKER = /^<!--\s*(not run|needs|save as):\s*(.*?)\s*-->$/;

/** Every fenced block of `file`, with the markers right before it. */
function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
  const out: Block[] = [];
  let heading = "";
  let pending: { key: string; value: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const fence = /^```(\S*)\s*$/.exec(l);
    if (fence) {
      const line = i + 1;
      const body: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
      const block: Block = { file, line, lang: fence[1]!, heading, body, needs: [] };
      for (const m of pending) {
        if (m.key === "not run") block.notRun = m.value;
        else if (m.key === "needs") block.needs = m.value.split(/[\s,]+/).filter(Boolean);
        else block.saveAs = m.value;
      }
      out.push(block);
      pending = [];
      continue;
    }
    if (/^#{1,6} /.test(l)) heading = l.replace(/^#+ /, "");
    const m = MARKER.exec(l.trim());
    if (m) {
      if (m[2] === "") throw new Error(`${file}:${i + 1}: <!-- ${m[1]}: … --> says nothing`);
      pending.push({ key: m[1]!, value: m[2]!, line: i + 1 });
    } else if (l.trim() !== "" && pending.length) {
      throw new Error(
        `${file}:${pending[0]!.line}: a <!-- ${pending[0]!.key}: … --> marker must come right before a fenced block`,
      );
    }
  }
  if (pending.length) throw new Error(`${file}:${pending[0]!.line}: a marker with no block after it`);
  return out;
}

/** `line` split at its comment (a `#` outside quotes, at the start or after whitespace). */
function splitComment(line: string): { code: string; comment: string | null } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
    } else if (quote === '"') {
      if (c === "\\") i++;
      else if (c === '"') quote = null;
    } else if (c === "\\") i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
      return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
    }
  }
  return { code: line.trimEnd(), comment: null };
}

/** The expectation a comment states, or null for prose. */
function expectationOf(comment: string): Expectation | null {
  const out = /^→\s*(.*)$/.exec(comment);
  if (out) return { exit: 0, output: out[1]! };
  const fails = /^fails \(exit (\d+)\)(?::\s*(.*))?$/.exec(comment);
  if (fails) return { exit: Number(fails[1]), ...(fails[2] ? { output: fails[2] } : {}) };
  return null;
}

/** The commands of a shell block. */
function commandsOf(b: Block): Command[] {
  const cmds: Command[] = [];
  const lines = b.body;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === "") continue;
    const at = `${b.file}:${b.line + 1 + i}`;
    if (t.startsWith("#")) {
      const e = expectationOf(t.slice(1).trim());
      if (e) {
        const prev = cmds.at(-1);
        if (!prev || prev.expect) throw new Error(`${at}: an expectation with no command of its own before it`);
        prev.expect = e;
      }
      continue;
    }
    const { code, comment } = splitComment(lines[i]!);
    const text = [code];
    for (let last = code; last.endsWith("\\") && i + 1 < lines.length;) text.push((last = lines[++i]!));
    const heredoc = /<<-?\s*(['"]?)(\w+)\1/.exec(code);
    if (heredoc) {
      const end = heredoc[2]!;
      while (i + 1 < lines.length && lines[i]!.trim() !== end) text.push(lines[++i]!);
      if (lines[i]!.trim() !== end) throw new Error(`${at}: the here-document ${end} never ends`);
    }
    const e = comment === null ? null : expectationOf(comment);
    cmds.push({ text: text.join("\n"), at, ...(e ? { expect: e } : {}) });
  }
  return cmds;
}

const WK_COMMAND = /(^|[\s;&|(`])(npx\s+)?wk(\s|$)/m;
const isShell = (b: Block) => b.lang === "sh" || b.lang === "bash";
const showsWk = (b: Block) => isShell(b) && commandsOf(b).some((c) => WK_COMMAND.test(c.text));
const onPath = (cmd: string) => spawnSync("bash", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const where = (b: Block) => `${b.file}:${b.line} (${b.heading || "top"})`;

/** Collapses whitespace, and the whitespace inside brackets, so pretty and compact text compare. */
const norm = (s: string) =>
  s
    .replace(/\s+/g, " ")
    .replace(/([[{]) /g, "$1")
    .replace(/ ([\]}])/g, "$1")
    .trim();

function jsonValues(output: string): unknown[] {
  const out: unknown[] = [];
  for (const text of [output, ...output.split("\n")]) {
    try {
      out.push(JSON.parse(text));
    } catch {
      // not JSON
    }
  }
  return out;
}

/** Whether `output` is what the doc says a command prints (see the module comment). */
function outputMatches(expected: string, output: string): boolean {
  const keys = /^\{\s*([a-z_]\w*(?:\s*,\s*[a-z_]\w*)*)\s*\}$/i.exec(expected);
  if (keys) {
    const want = keys[1]!
      .split(",")
      .map((k) => k.trim())
      .sort();
    return jsonValues(output).some(
      (v) => typeof v === "object" && v !== null && !Array.isArray(v) && isDeepStrictEqual(Object.keys(v).sort(), want),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(expected);
  } catch {
    json = undefined;
  }
  if (json !== undefined && typeof json === "object") return jsonValues(output).some((v) => isDeepStrictEqual(v, json));
  const text = norm(output);
  let from = 0;
  for (const piece of expected.split("…").map(norm).filter(Boolean)) {
    const k = text.indexOf(piece, from);
    if (k < 0) return false;
    from = k + piece.length;
  }
  return true;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const ALL = FILES.flatMap(blocksOf);
/** The test database (test/pg/global-setup.ts): `<!-- needs: postgres -->` blocks read its URL as $WK_STORE. */
const PG = inject("wkPgUrl");
const available = (c: string) => (c === "postgres" ? PG !== null : onPath(c));
const missing = (b: Block) => b.needs.filter((c) => !available(c));
const skipped = ALL.filter((b) => showsWk(b) && (b.notRun !== undefined || missing(b).length > 0));
const runs = (b: Block) => (showsWk(b) && !skipped.includes(b)) || b.saveAs !== undefined;

describe("the docs' shell blocks, run as written", () => {
  let project: string;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    const scratch = mkdtempSync(join(tmpdir(), "wk-doc-commands-"));
    project = join(scratch, "project");
    tmp = join(scratch, "tmp");
    mkdirSync(tmp);
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), '{ "name": "scratch", "private": true }\n');
    const skip = new Set(["node_modules", "modules/zig/toolchain"].map((p) => join(ROOT, p)));
    for (const d of ["worlds", "modules", "air/builtins"]) {
      cpSync(join(ROOT, d), join(project, d), {
        recursive: true,
        filter: (src) => !skip.has(src) && !src.includes("/node_modules/"),
      });
    }
    // worldkernel's dependencies are installed, as in a project that installed worldkernel (an
    // example's server, worlds/mcp-agent/server.mjs, imports the MCP SDK).
    symlinkSync(join(ROOT, "node_modules"), join(project, "node_modules"));
    // `wk` and `npx wk` run this checkout's CLI; any other `npx` is the real one.
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    const wk = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, "bin/wk.js"))}`;
    const npx = join(dirname(process.execPath), "npx");
    writeFileSync(join(bin, "wk"), `#!/bin/sh\nexec ${wk} "$@"\n`);
    writeFileSync(
      join(bin, "npx"),
      `#!/bin/sh\nif [ "$1" = wk ]; then shift; exec ${wk} "$@"; fi\nexec ${JSON.stringify(npx)} "$@"\n`,
    );
    for (const f of ["wk", "npx"]) chmodSync(join(bin, f), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, ...(PG === null ? {} : { WK_STORE: PG }) };
  });

  // Blocks marked not run are illustrative: each must say why (no skipped test stands for them).
  const notRun = skipped.filter((b) => b.notRun !== undefined);
  it(`blocks not run, each with its reason: ${notRun.map((b) => `${where(b)} (${b.notRun})`).join("; ") || "none"}`, () => {
    for (const b of notRun)
      expect(b.notRun!.trim().length, `${where(b)}: a not-run block must give its reason`).toBeGreaterThan(3);
  });
  // A block that needs a missing tool: skipped with its reason on a laptop, a failure in CI (.ci/run installs them).
  for (const b of skipped.filter((x) => x.notRun === undefined)) {
    (process.env.CI === "true" ? it : it.skip)(`${where(b)}: needs ${missing(b).join(", ")} (not installed)`, () => {
      throw new Error(`${where(b)} needs ${missing(b).join(", ")}: CI installs them (.ci/run)`);
    });
  }

  for (const file of FILES) {
    const blocks = ALL.filter((b) => b.file === file && runs(b));
    if (!blocks.some(showsWk)) continue;
    it(`${file}: ${blocks
      .filter(showsWk)
      .map((b) => where(b).replace(`${file}:`, ""))
      .join(", ")}`, async () => {
      await runFile(blocks);
    }, 240_000);
  }

  /** Runs the blocks of one file in one bash and checks every command. */
  async function runFile(blocks: Block[]): Promise<void> {
    const file = blocks[0]!.file;
    const log = mkdtempSync(join(tmp, "..", "log-"));
    const toTmp = (s: string) => s.replace(/(?<![\w./-])\/tmp\//g, `${tmp}/`);
    const steps: { cmd: Command }[] = [];
    for (const b of blocks) {
      if (b.saveAs !== undefined) {
        const path = toTmp(b.saveAs);
        steps.push({
          cmd: {
            at: `${file}:${b.line}`,
            text: `mkdir -p "$(dirname ${path})" && cat > ${path} <<'__WK_DOC_EOF__'\n${b.body.join("\n")}\n__WK_DOC_EOF__`,
          },
        });
      }
      if (showsWk(b)) for (const cmd of commandsOf(b)) steps.push({ cmd: { ...cmd, text: toTmp(cmd.text) } });
    }
    // A local server's port (`python3 -m http.server 8765`) becomes a free one, waited for once started.
    const served = steps.map((s) => /\bhttp\.server\s+(\d+)/.exec(s.cmd.text)?.[1]).find((p) => p !== undefined);
    let port: number | undefined;
    if (served !== undefined) {
      port = await freePort();
      for (const s of steps) s.cmd.text = s.cmd.text.replace(new RegExp(`\\b${served}\\b`, "g"), String(port));
    }
    const script = [
      ...steps.map((s, i) => {
        const run = `{ ${s.cmd.text}\n} >${log}/${i}.out 2>${log}/${i}.err </dev/null; echo $? >${log}/${i}.rc`;
        const background = /&\s*$/.test(s.cmd.text) && port !== undefined;
        return background
          ? `${run}\nfor _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && break; sleep 0.1; done`
          : run;
      }),
      `kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; true`,
    ].join("\n");
    const r = spawnSync("bash", ["-c", script], { cwd: project, env, encoding: "utf8", timeout: 200_000 });
    expect(r.status, `${file}: the script did not finish\n${r.stderr}`).toBe(0);
    const read = (f: string) => (existsSync(join(log, f)) ? readFileSync(join(log, f), "utf8") : "");
    const failures: string[] = [];
    let checked = 0;
    steps.forEach((s, i) => {
      const rc = Number(read(`${i}.rc`).trim() || "-1");
      const out = read(`${i}.out`);
      const err = read(`${i}.err`);
      const want = s.cmd.expect ?? { exit: 0 };
      const shown = `${s.cmd.at}: ${s.cmd.text.split("\n")[0]}`;
      const output = `\n--- stdout\n${out}--- stderr\n${err}`;
      if (rc !== want.exit) failures.push(`${shown}\n  exit ${rc}, the doc says ${want.exit}${output}`);
      else if (want.output !== undefined) {
        checked++;
        if (!outputMatches(toTmp(want.output), `${out}\n${err}`))
          failures.push(`${shown}\n  the doc says it prints: ${want.output}${output}`);
      }
    });
    expect(failures.length, failures.join("\n\n")).toBe(0);
    expect(steps.length).toBeGreaterThan(0);
    console.info(
      `${file}: ${steps.length} command(s) ran as documented, ${checked} output(s) checked (in ${relative(tmpdir(), project)})`,
    );
  }
});

describe("the docs-as-tests conventions", () => {
  it("reads the README's short tour, and every block that shows wk either runs or says why not", () => {
    const tour = ALL.find((b) => b.file === "README.md" && b.heading === "A short tour");
    expect(tour && showsWk(tour) && runs(tour)).toBe(true);
    for (const b of ALL.filter((x) => x.notRun !== undefined))
      expect(isShell(b), `${where(b)}: only shell blocks are run`).toBe(true);
    // Markers on a block that shows no wk command would be silently meaningless.
    for (const b of ALL.filter((x) => x.notRun !== undefined || x.needs.length))
      expect(showsWk(b), where(b)).toBe(true);
  });

  it("parses comments and outputs the way the module comment says", () => {
    expect(splitComment(`wk send a '{"k":"#x"}' --world /tmp/w   # → {"count": 5}`)).toEqual({
      code: `wk send a '{"k":"#x"}' --world /tmp/w`,
      comment: '→ {"count": 5}',
    });
    expect(splitComment(`echo \${#x} a#b`).comment).toBeNull();
    expect(expectationOf("→ ok: …")).toEqual({ exit: 0, output: "ok: …" });
    expect(expectationOf("fails (exit 1): kernel.bad_approval")).toEqual({ exit: 1, output: "kernel.bad_approval" });
    expect(expectationOf("the end-to-end demo")).toBeNull();
    expect(outputMatches('{"count": 5, "events": 1}', '{\n  "events": 1,\n  "count": 5\n}\n')).toBe(true);
    expect(outputMatches('{"count": 5, "events": 1}', '{"count": 6, "events": 1}')).toBe(false);
    expect(outputMatches('{"seq":3,"fuel":7}', '{"seq":1,"fuel":2}\n{"seq":3,"fuel":7}\n')).toBe(true);
    expect(outputMatches("{ok, hash}", '{"hash": "h", "ok": true}')).toBe(true);
    expect(outputMatches("{ok, hash}", '{"hash": "h", "ok": true, "ms": 1}')).toBe(false);
    expect(
      outputMatches(
        "0 cell(s) end differently, … 0 failed step(s)",
        "  0 cell(s) end differently, 3 entr(ies) differ, 0 failed step(s)\n",
      ),
    ).toBe(true);
    expect(
      outputMatches(
        "0 cell(s) end differently, … 0 failed step(s)",
        "  0 cell(s) end differently, 3 entr(ies) differ, 1 failed step(s)\n",
      ),
    ).toBe(false);
    expect(outputMatches('… "denied": ["u"], …', '{\n  "denied": [\n    "u"\n  ],\n  "x": 1\n}')).toBe(true);
  });
});
