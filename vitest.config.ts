import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The second starts a private PostgreSQL cluster for the PostgreSQL suites (test/pg/cluster.ts).
    globalSetup: ["test/global-setup.ts", "test/pg/global-setup.ts"],
    // The kernel's build caches (JS components, Zig) go inside the repository, never to ~/.cache.
    // The anchor logs too (state directory): test/state-dir.ts gives each test file a folder under it.
    env: {
      WK_CACHE_DIR: fileURLToPath(new URL("./.vitest-cache/worldkernel", import.meta.url)),
      WK_STATE_DIR: fileURLToPath(new URL("./.vitest-cache/state", import.meta.url)),
    },
    setupFiles: ["test/state-dir.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
