/**
 * @module Tiny WAT modules for world tests, built in-process with wabt: a plugin whose
 * `step` returns fixed bytes, whatever its input.
 */
import wabtInit from "wabt";

const wabt = await wabtInit();

/** A module whose `step` returns `bytes` verbatim (copied from a data segment into Extism memory). */
export function constOutputWasm(bytes: Uint8Array): Uint8Array {
  const data = [...bytes].map((b) => "\\" + b.toString(16).padStart(2, "0")).join("");
  const text = `(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "${data}")
  (func (export "step") (result i32)
    (local $out i64) (local $i i64)
    (local.set $out (call $alloc (i64.const ${bytes.length})))
    (block $done
      (loop $copy
        (br_if $done (i64.ge_u (local.get $i) (i64.const ${bytes.length})))
        (call $store_u8 (i64.add (local.get $out) (local.get $i)) (i32.load8_u (i32.wrap_i64 (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy)))
    (call $output_set (local.get $out) (i64.const ${bytes.length}))
    (i32.const 0)))`;
  const mod = wabt.parseWat("const-output.wat", text);
  try {
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}
