/** @module Moved to kernel/transition/flags.ts (the transition reads the flags); re-exported while callers move. */
export * from "../transition/flags.js";
