/**
 * @module ESLint, run by `npm run lint`: the determinism rules of the pure layers (`air/`,
 * `kernel/core/`, `kernel/transition/`, `kernel/analysis/`: no clock, randomness, environment, timers, network or locale; STYLE habit 3)
 * and a little type hygiene. No style rules (formatting is prettier's); the import layers are
 * dependency-cruiser's (`.dependency-cruiser.cjs`).
 */
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

/** The pure, replayed layers: whatever they compute must be the same on every machine, every run. */
const PURE = [
  "air/**/*.{ts,js,mjs}",
  "kernel/core/**/*.{ts,js,mjs}",
  "kernel/transition/**/*.{ts,js,mjs}",
  // wk analyze's detectors: the same input must give the same findings, whatever the clock says.
  "kernel/analysis/**/*.{ts,js,mjs}",
];

const WHY = {
  clock: "reads the clock: time arrives as an argument (ctx.now_ns / logical_now, stamped at ingress)",
  random: "reads randomness: entropy arrives as an argument (ctx.entropy, stamped at ingress)",
  env: "reads the process environment: configuration arrives as an argument",
  sched: "depends on scheduling or garbage collection, which replay cannot reproduce",
  net: "touches the network: only adapters do, as journaled effects",
  locale: "depends on the host's locale: compare and format by code point instead",
  global: "reaches globals by name, around the determinism rules",
  io: "does I/O: air/ and kernel/core/ import no Node built-in but node:crypto (for hashing)",
};

/** node:crypto / Web Crypto functions that draw randomness (hashing is fine). */
const RANDOM_CRYPTO = [
  "getRandomValues",
  "randomUUID",
  "randomBytes",
  "randomFill",
  "randomFillSync",
  "randomInt",
  "generateKeyPair",
  "generateKeyPairSync",
  "generateKey",
  "generateKeySync",
  "generatePrime",
  "generatePrimeSync",
];

/** Syntax the pure layers never use. */
const PURE_SYNTAX = [
  {
    selector: "NewExpression[callee.name='Date']",
    message:
      "new Date() reads the clock (or parses by the host's rules): time arrives as an argument; parse explicit input with Date.parse / Date.UTC",
  },
  { selector: "CallExpression[callee.name='Date']", message: `Date() ${WHY.clock}` },
  {
    selector: "ImportExpression",
    message: "a dynamic import() loads code at run time: the pure layers import statically",
  },
];

const bannedGlobals = [
  ["performance", WHY.clock],
  ["process", WHY.env],
  ["crypto", WHY.random],
  ["setTimeout", WHY.sched],
  ["setInterval", WHY.sched],
  ["setImmediate", WHY.sched],
  ["clearTimeout", WHY.sched],
  ["clearInterval", WHY.sched],
  ["clearImmediate", WHY.sched],
  ["queueMicrotask", WHY.sched],
  ["WeakRef", WHY.sched],
  ["FinalizationRegistry", WHY.sched],
  ["fetch", WHY.net],
  ["XMLHttpRequest", WHY.net],
  ["WebSocket", WHY.net],
  ["EventSource", WHY.net],
  ["navigator", WHY.env],
  ["Intl", WHY.locale],
  ["globalThis", WHY.global],
  ["global", WHY.global],
  ["window", WHY.global],
  ["self", WHY.global],
].map(([name, message]) => ({ name, message }));

const bannedProperties = [
  { object: "Date", property: "now", message: WHY.clock },
  { object: "performance", property: "now", message: WHY.clock },
  { object: "process", property: "hrtime", message: WHY.clock },
  { object: "process", property: "env", message: WHY.env },
  { object: "Math", property: "random", message: WHY.random },
  // `crypto` as the Web Crypto global or as `import * as crypto from "node:crypto"`.
  ...RANDOM_CRYPTO.map((property) => ({ object: "crypto", property, message: WHY.random })),
  // @noble/curves: `ed25519.utils.randomSecretKey()` and the older name.
  { property: "randomSecretKey", message: WHY.random },
  { property: "randomPrivateKey", message: WHY.random },
  ...[
    "localeCompare",
    "toLocaleString",
    "toLocaleDateString",
    "toLocaleTimeString",
    "toLocaleUpperCase",
    "toLocaleLowerCase",
  ].map((property) => ({
    property,
    message: WHY.locale,
  })),
];

/** Node built-ins that do I/O or read the process (the pure layers need none but node:crypto). */
const ioBuiltins = [
  "fs",
  "fs/promises",
  "os",
  "process",
  "child_process",
  "cluster",
  "net",
  "http",
  "https",
  "http2",
  "dns",
  "dns/promises",
  "tls",
  "dgram",
  "worker_threads",
  "perf_hooks",
  "timers",
  "timers/promises",
  "readline",
  "async_hooks",
  "inspector",
  "vm",
  "v8",
];

export default defineConfig([
  {
    ignores: ["node_modules/", "dist/", "modules/", "worlds/", "test/fixtures/", "test/vectors/", "**/*.tmp.ts"],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  {
    files: ["**/*.ts"],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: "module" } },
    plugins: { "@typescript-eslint": tseslint.plugin },
  },
  {
    // Say what a value is (`unknown` and narrow it); a test that must poke at hostile input disables it on that line.
    files: ["**/*.ts"],
    ignores: ["**/*.d.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "error" },
  },
  {
    files: PURE,
    rules: {
      "no-restricted-globals": ["error", ...bannedGlobals],
      "no-restricted-properties": ["error", ...bannedProperties],
      "no-restricted-syntax": ["error", ...PURE_SYNTAX],
      "no-restricted-imports": [
        "error",
        {
          paths: [
            ...["node:crypto", "crypto"].map((name) => ({
              name,
              importNames: [...RANDOM_CRYPTO, "webcrypto"],
              message: WHY.random,
            })),
            { name: "@noble/hashes/utils.js", importNames: ["randomBytes"], message: WHY.random },
            { name: "@noble/hashes/utils", importNames: ["randomBytes"], message: WHY.random },
            ...ioBuiltins.flatMap((m) => [`node:${m}`, m]).map((name) => ({ name, message: WHY.io })),
          ],
        },
      ],
    },
  },
  {
    // The transition runs to completion between the shell's answers: it never awaits, so nothing
    // outside it (a timer, another request, I/O) can interleave with a state change.
    files: ["kernel/transition/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        ...PURE_SYNTAX,
        {
          selector: ":function[async=true]",
          message:
            "the transition is synchronous: what needs waiting (a module call, a signature) is a request it yields",
        },
        { selector: "AwaitExpression", message: "the transition never awaits: yield a request to the shell instead" },
      ],
    },
  },
]);
