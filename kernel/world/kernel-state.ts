/** @module Moved to kernel/transition/state.ts; re-exported while callers move. */
export type { EventBody, KernelState, PendingIntent } from "../transition/state.js";
