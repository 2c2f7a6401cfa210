/**
 * @module A private PostgreSQL cluster for tests and benchmarks: initdb into a temp data
 * directory, listen on 127.0.0.1 only (a free port) with the unix socket in the temp dir,
 * trust auth for loopback only, stopped and removed at the end. The server never runs as
 * root (initdb refuses to): as root it runs as the `postgres` user through runuser.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** The server binaries the harness needs. */
export interface PgBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/** A running private cluster. */
export interface PgCluster {
  /** Connection URL of the `postgres` database as the superuser `postgres` (trust, loopback). */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server and removes its directory (idempotent). */
  stop(): void;
}

/** Options for `startCluster`. */
export interface ClusterOptions {
  /** fsync and synchronous commit as in production (default true); tests may turn them off for speed. */
  durable?: boolean;
}

const NAMES = ["initdb", "pg_ctl", "postgres"] as const;

function findIn(dir: string): PgBinaries | null {
  const found = NAMES.map((n) => join(dir, n));
  return found.every((p) => existsSync(p)) ? { initdb: found[0]!, pg_ctl: found[1]!, postgres: found[2]! } : null;
}

/** Finds initdb, pg_ctl and postgres on PATH or in /usr/lib/postgresql/<version>/bin (newest first); null if absent. */
export function findPgBinaries(): PgBinaries | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "")) {
    const b = findIn(dir);
    if (b !== null) return b;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const b = findIn(join(root, v, "bin"));
    if (b !== null) return b;
  }
  return null;
}

/** Why the PostgreSQL suites cannot run here, or null when they can. */
export function clusterUnavailable(): string | null {
  if (findPgBinaries() === null)
    return "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin; install the Debian `postgresql` package";
  if (isRoot() && spawnSync("id", ["-u", "postgres"]).status !== 0)
    return "running as root, and there is no `postgres` user to run the server as";
  return null;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** A free TCP port on 127.0.0.1 (the OS picks it; released just before the server binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a server binary as a non-root user (`postgres` via runuser when we are root). */
function run(bin: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  return spawnSync(cmd as string, argv as string[], { cwd, encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
}

function check(r: SpawnSyncReturns<string>, what: string, log?: string): void {
  if (r.status === 0) return;
  const tail =
    log !== undefined && existsSync(log) ? spawnSync("tail", ["-n", "30", log], { encoding: "utf8" }).stdout : "";
  throw new Error(
    `${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout ?? ""}${r.stderr ?? ""}${tail}`,
  );
}

/** Starts a private cluster; throws with the server's output when it cannot. */
export async function startCluster(opts: ClusterOptions = {}): Promise<PgCluster> {
  const why = clusterUnavailable();
  if (why !== null) throw new Error(`cannot start PostgreSQL: ${why}`);
  const bin = findPgBinaries()!;
  const base = mkdtempSync(join(isRoot() ? "/tmp" : tmpdir(), "wk-pg-"));
  const dataDir = join(base, "data");
  const log = join(base, "server.log");
  if (isRoot()) check(spawnSync("chown", ["postgres:postgres", base], { encoding: "utf8" }), "chown");
  else chmodSync(base, 0o700);
  let started = false;
  const stop = (): void => {
    process.removeListener("exit", stop);
    if (started) run(bin.pg_ctl, ["-D", dataDir, "-m", "fast", "-w", "stop"], base);
    started = false;
    rmSync(base, { recursive: true, force: true });
  };
  try {
    check(
      run(bin.initdb, ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], base),
      "initdb",
    );
    // Trust, but only over the socket in our private directory and over IPv4 loopback.
    writeFileSync(join(dataDir, "pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 trust\n");
    const port = await freePort();
    const durable = opts.durable ?? true;
    const settings = [
      "listen_addresses=127.0.0.1",
      `port=${port}`,
      `unix_socket_directories=${base}`,
      "max_connections=100",
      ...(durable ? [] : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]),
    ];
    const o = settings.map((s) => `-c ${s}`).join(" ");
    check(run(bin.pg_ctl, ["-D", dataDir, "-l", log, "-w", "-t", "60", "-o", o, "start"], base), "pg_ctl start", log);
    started = true;
    // A run that ends without calling stop() (an exception, Ctrl-C) still stops its server.
    process.once("exit", stop);
    return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, port, dataDir, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/** The URL of a database `name` on the same server as `url`. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
