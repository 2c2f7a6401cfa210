/**
 * @module The `timer.set` adapter: waits (in the shell, on the wall clock) until
 * `nowNs() >= deliver_at_ns`, honouring the abort signal. The kernel persists pending
 * timers and re-dispatches them on `wk run`, so a timer survives a restart.
 */
import { failed, finish, type EffectAdapter, type EffectOutcome, type EffectRequest } from "../adapter.js";
import { bigNat, optText, readParams } from "../params.js";

// setTimeout's delay is a 32-bit signed int; long timers wake up and re-check.
const MAX_SLEEP_MS = 2 ** 31 - 1;

/** Creates the `timer.set` adapter. */
export function createTimerAdapter(): EffectAdapter {
  return { id: "worldkernel.timer", version: "1.0.0", kinds: ["timer.set"], perform: performTimer };
}

async function performTimer(req: EffectRequest): Promise<EffectOutcome> {
  const started = req.nowNs();
  const read = readParams(req.kind, req.params, (p) => ({
    at: bigNat(req.kind, p, "deliver_at_ns"),
    key: optText(req.kind, p, "key"),
  }));
  if (!read.ok) return failed(req, started, "invalid_params", read.message);
  const { at, key } = read.value;
  for (;;) {
    const now = req.nowNs();
    if (now >= at) return finish(req, started, "ok", { delivered_at_ns: now, key });
    if (req.signal.aborted) return failed(req, started, "aborted", "the kernel cancelled the timer", { key });
    const waitMs = Math.min(MAX_SLEEP_MS, Math.max(1, Math.ceil(Number(at - now) / 1e6)));
    await sleep(waitMs, req.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
