/**
 * @module vitest global setup for the PostgreSQL suites: one private cluster per test run
 * (test/pg/cluster.ts), with a `worldkernel_test` database every PostgreSQL test shares
 * (each test makes its own world id). Tests read its URL with `inject("wkPgUrl")`; it is
 * also exported as WK_TEST_PG_URL. A preset WK_TEST_PG_URL is used instead of a new
 * cluster. Without server binaries the suites skip with the reason — except under CI=true,
 * where that fails the run.
 */
import type { TestProject } from "vitest/node";
import pg from "pg";
import { clusterUnavailable, databaseUrl, startCluster } from "./cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The test database's URL, or null when the PostgreSQL suites cannot run here. */
    wkPgUrl: string | null;
    /** Why they cannot, when wkPgUrl is null. */
    wkPgSkip: string | null;
  }
}

const DATABASE = "worldkernel_test";

/** Starts the cluster (or takes WK_TEST_PG_URL) and provides the URL; returns the teardown. */
export default async function setup(project: TestProject): Promise<() => void> {
  const preset = process.env.WK_TEST_PG_URL;
  if (preset !== undefined && preset !== "") {
    project.provide("wkPgUrl", preset);
    project.provide("wkPgSkip", null);
    return () => undefined;
  }
  const why = clusterUnavailable();
  if (why !== null) {
    if (process.env.CI === "true") throw new Error(`the PostgreSQL suites must run in CI, but ${why}`);
    process.stderr.write(`note: PostgreSQL suites skipped: ${why}\n`);
    project.provide("wkPgUrl", null);
    project.provide("wkPgSkip", why);
    return () => undefined;
  }
  // Tests need no durability: fsync off makes the cluster several times faster.
  const cluster = await startCluster({ durable: false });
  try {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
  } catch (e) {
    cluster.stop();
    throw e;
  }
  const url = databaseUrl(cluster.url, DATABASE);
  process.env.WK_TEST_PG_URL = url;
  project.provide("wkPgUrl", url);
  project.provide("wkPgSkip", null);
  return () => cluster.stop();
}
