/** @module Moved to kernel/transition/batch.ts; re-exported while callers move. */
export { Batch } from "../transition/batch.js";
