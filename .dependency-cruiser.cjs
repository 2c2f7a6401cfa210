/**
 * @module The architecture as rules (DESIGN §2, STYLE habits 1, 3 and 12), checked by
 * `npm run lint`. Layers, lowest first:
 *
 *   air  ←  kernel/core  ←  kernel/crypto  ←  kernel/{journal,wasm,adapters}  ←  kernel/transition  ←  kernel/world  ←  tools
 *
 * kernel/transition is the one state transition (issue 22): pure like air and core, it sits above
 * them because it speaks the journal's entry bodies (kernel/journal/entries.ts, its only import
 * from the ports); module calls and signatures are requests it yields to kernel/world.
 * kernel/analysis (`wk analyze`'s detectors) is pure too and reads entries in the journal's JSON
 * form (kernel/journal/entry-json.ts, entry-kinds.ts): kernel/world embeds its config schema, the
 * CLI runs it.
 *
 * A layer imports only layers to its left; journal, wasm and adapters are ports that never
 * import each other (kernel/world composes them). `kernel/*.ts` (packages.ts, air-dir.ts)
 * are shell helpers for the layers from journal up. Type-only imports count for the layer
 * rules and for cycles alike (a type is still coupling).
 */

/** Paths as dependency-cruiser sees them (relative to the repository root). */
const PURE = "^(air|kernel/core|kernel/transition|kernel/analysis)/";
const PORTS = "^kernel/(journal|wasm|adapters)/";

module.exports = {
  forbidden: [
    // ── cycles ──────────────────────────────────────────────────────────────────────────
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle, type-only imports included (issue 22): TypeScript erases an `import type`, but a type is " +
        "still coupling, and modules in a cycle cannot be understood, tested or moved apart. Move the shared " +
        "declarations into a leaf type module both import (kernel/transition/state.ts), or depend on a narrow " +
        "port the other side satisfies (kernel/world/world-port.ts).",
      from: {},
      to: { circular: true },
    },

    // ── air: the lowest layer ───────────────────────────────────────────────────────────
    {
      name: "air-imports-only-air",
      severity: "error",
      comment: "air/ is the bottom layer: it imports nothing from kernel/, tools/, test/, bin/, modules/ or worlds/.",
      from: { path: "^air/" },
      to: { dependencyTypes: ["local"], pathNot: "^air/" },
    },
    {
      name: "air-npm-allowlist",
      severity: "error",
      comment:
        "air's dependencies are zod, cbor-x, @noble/hashes and lossless-json (STYLE 12); add one here only on purpose. " +
        "@bufbuild/cel (issue 23): policy conditions are AIR data, so the loader parses and checks them with their path " +
        "(air/policy-condition.ts), and the gate evaluates the same compiled form; the version is pinned by policy-cel-v1.",
      from: { path: "^air/" },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-peer", "npm-optional", "npm-no-pkg", "npm-unknown"],
        pathNot: "^node_modules/(zod|cbor-x|@noble/hashes|lossless-json|@bufbuild/cel)/",
      },
    },

    // ── kernel/core: pure deterministic logic ───────────────────────────────────────────
    {
      name: "core-imports-only-air-and-core",
      severity: "error",
      comment:
        "kernel/core imports only air/ and itself: never journal, crypto, wasm, adapters, world or the shell helpers.",
      from: { path: "^kernel/core/" },
      to: { dependencyTypes: ["local"], pathNot: "^(air|kernel/core)/" },
    },
    {
      name: "pure-layers-import-no-node-builtins",
      severity: "error",
      comment:
        "air/ and kernel/core/ touch no files, network, processes, clock or environment, so they need no Node built-in " +
        "but node:crypto for hashing (its random functions are banned by ESLint). Time and entropy arrive as arguments.",
      from: { path: PURE },
      to: { dependencyTypes: ["core"], pathNot: "^(node:)?crypto$" },
    },

    // ── kernel/transition: the one transition ───────────────────────────────────────────
    {
      name: "transition-imports-air-core-and-entry-types",
      severity: "error",
      comment:
        "kernel/transition imports air/, kernel/core, itself and the journal's entry schemas (kernel/journal/entries.ts, " +
        "entry-kinds.ts, store.ts for AppendInput) only: no journal store, crypto, wasm, adapters or world. WASM calls " +
        "and signatures are requests it yields; kernel/world answers them.",
      from: { path: "^kernel/transition/" },
      to: {
        dependencyTypes: ["local"],
        pathNot: "^(air/|kernel/core/|kernel/transition/|kernel/journal/(entries|entry-kinds|store)\\.ts$)",
      },
    },
    {
      name: "only-the-world-drives-the-transition",
      severity: "error",
      comment: "The transition sits below kernel/world: nothing beneath it (air, core, crypto, ports) imports it.",
      from: { path: "^(air|kernel/(core|crypto|journal|wasm|adapters))/" },
      to: { path: "^kernel/transition/" },
    },

    // ── kernel/analysis: detectors over entries ─────────────────────────────────────────
    {
      name: "analysis-imports-air-and-entry-forms",
      severity: "error",
      comment:
        "kernel/analysis (wk analyze's detectors) is pure: it reads entries handed to it, in the journal's JSON form. It " +
        "imports air/, itself and the journal's entry kinds and JSON form (kernel/journal/entry-kinds.ts, entry-json.ts, " +
        "entries.ts) only: no store, world, clock, WASM or adapter.",
      from: { path: "^kernel/analysis/" },
      to: {
        dependencyTypes: ["local"],
        pathNot: "^(air/|kernel/analysis/|kernel/journal/(entries|entry-kinds|entry-json)\\.ts$)",
      },
    },

    // ── kernel/crypto: the offline verifier's layer ─────────────────────────────────────
    {
      name: "crypto-imports-only-air-core-crypto",
      severity: "error",
      comment:
        "kernel/crypto (keys, receipts, the offline verifier) builds on air/ and kernel/core only: no journal, wasm, adapters or world.",
      from: { path: "^kernel/crypto/" },
      to: { dependencyTypes: ["local"], pathNot: "^(air|kernel/core|kernel/crypto)/" },
    },
    {
      name: "verifier-needs-no-sqlite-or-wasm",
      severity: "error",
      comment:
        "`wk receipt verify` needs nothing but the bundle: the verifier's whole import graph holds no SQLite, WASM runtime or journal code.",
      from: { path: "^kernel/crypto/verify-bundle(-main)?\\.ts$" },
      to: {
        reachable: true,
        path: "^(node_modules/(better-sqlite3|@extism|@bytecodealliance)/|kernel/(journal|wasm|adapters|world)/)",
      },
    },

    // ── ports: journal, wasm, adapters ──────────────────────────────────────────────────
    {
      name: "ports-do-not-import-the-world",
      severity: "error",
      comment:
        "journal, wasm and adapters sit below the World facade: kernel/world composes them, never the other way round.",
      from: { path: PORTS },
      to: { path: "^kernel/world/" },
    },
    {
      name: "ports-do-not-import-each-other",
      severity: "error",
      comment: "journal, wasm and adapters are independent ports (data flows between them through kernel/world).",
      from: { path: "^kernel/(journal|wasm|adapters)/" },
      to: { path: "^kernel/(journal|wasm|adapters)/", pathNot: "^kernel/$1/" },
    },
    {
      name: "sqlite-only-in-the-journal",
      severity: "error",
      comment: "better-sqlite3 is the SQLite store's business (STYLE 12): everything else goes through JournalStore.",
      from: { path: "^(air|kernel)/", pathNot: "^kernel/journal/" },
      to: { path: "^node_modules/better-sqlite3/" },
    },
    {
      name: "wasm-runtimes-only-in-kernel-wasm",
      severity: "error",
      comment:
        "The Extism and jco runtimes live in kernel/wasm only (the compile adapter's componentize-js is a compiler, not a runtime).",
      from: { path: "^(air|kernel)/", pathNot: "^kernel/wasm/" },
      to: { path: "^node_modules/(@extism/extism|@bytecodealliance/jco)/" },
    },
    {
      name: "optional-peers-load-lazily",
      severity: "error",
      comment:
        "Compilers and toolchains are optional peers: shipped code loads them with a dynamic import() where they are needed " +
        "(a type-only import is fine), so `wk` runs without them.",
      from: { path: "^(air|kernel|tools/cli|bin)/" },
      to: { dependencyTypes: ["npm-peer"], dependencyTypesNot: ["dynamic-import", "type-only"] },
    },

    // ── the kernel and air never reach up or out ────────────────────────────────────────
    {
      name: "kernel-and-air-do-not-import-tools-test-bin",
      severity: "error",
      comment: "air/ and kernel/ never import tools/, test/ or bin/: those sit above them.",
      from: { path: "^(air|kernel)/" },
      to: { path: "^(tools|test|bin)/" },
    },
    {
      name: "nothing-imports-guests",
      severity: "error",
      comment: "modules/ and worlds/ are data and guests (STYLE 1): code reads them as files, never imports them.",
      from: { pathNot: "^(modules|worlds)/" },
      to: { path: "^(modules|worlds)/" },
    },
    {
      name: "shipped-tools-do-not-import-test",
      severity: "error",
      comment:
        "test/ is not in the package: the CLI and the build script must not import it (benchmarks and tools/dev may reuse test fixtures).",
      from: { path: "^(tools|bin)/", pathNot: "^tools/(bench|dev)/" },
      to: { path: "^test/" },
    },

    // ── hygiene ─────────────────────────────────────────────────────────────────────────
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing (a typo, a missing .js suffix, an uninstalled package).",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "no-non-package-json",
      severity: "error",
      comment: "A package used but not declared in package.json: it only works because something else pulled it in.",
      from: {},
      to: {
        dependencyTypes: ["npm-no-pkg", "npm-unknown"],
        dependencyTypesNot: ["npm", "npm-dev", "npm-peer", "npm-optional"],
      },
    },
    {
      name: "no-deprecated-core",
      severity: "error",
      comment: "A deprecated Node core module.",
      from: {},
      to: { dependencyTypes: ["core"], path: "^(node:)?(punycode|domain|constants|sys|_linklist|_stream_wrap)$" },
    },
  ],
  options: {
    doNotFollow: { path: "^node_modules/" },
    exclude: { path: "^(modules/[^/]+/toolchain|dist)/" },
    // See type-only imports, so the layer and cycle rules cover them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
