;; worldkernel keyed counter, hand-written against the Extism kernel ABI (extism:host/env).
;; Input: the ABI-v1 step envelope (canonical CBOR); output: {ann, state, events, effects}
;; in canonical key order. demo/CounterEvent@1 {key, by} -> demo/CounterState@1
;; {count, events}; emits demo/CounterMilestone@1 when count crosses a multiple of 100.
;; The parser is a small generic CBOR walker (heads + skip); malformed input traps.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))

  (memory (export "memory") 1)

  ;; Field names.
  (data (i32.const 0) "state")              ;; 0, 5
  (data (i32.const 8) "event")              ;; 8, 5
  (data (i32.const 16) "value")             ;; 16, 5
  (data (i32.const 24) "key")               ;; 24, 3
  (data (i32.const 32) "by")                ;; 32, 2
  (data (i32.const 40) "count")             ;; 40, 5
  (data (i32.const 48) "events")            ;; 48, 6
  (data (i32.const 56) "version")           ;; 56, 7
  ;; Fixed runs of the output, already in canonical order:
  ;; {"ann": null, "state": {"count": _, "events": _}, "events": [...], "effects": []}
  (data (i32.const 64) "\a4\63ann\f6\65state\a2\65count")                 ;; 64, 19
  (data (i32.const 96) "\66events")                                       ;; 96, 7
  ;; [{"key": _, "value": {"key": _, "count": _}, "schema": "demo/CounterMilestone@1"}]
  (data (i32.const 112) "\81\a3\63key")                                   ;; 112, 6
  (data (i32.const 128) "\65value\a2\63key")                              ;; 128, 11
  (data (i32.const 144) "\65count")                                       ;; 144, 6
  (data (i32.const 160) "\66schema\77demo/CounterMilestone@1")           ;; 160, 31
  (data (i32.const 192) "\67effects\80")                                  ;; 192, 9

  (global $pos (mut i32) (i32.const 0))    ;; read cursor into the input copy
  (global $end (mut i32) (i32.const 0))
  (global $major (mut i32) (i32.const 0))  ;; major type of the last head read
  (global $out (mut i32) (i32.const 0))    ;; write cursor
  (global $kptr (mut i32) (i32.const 0))   ;; last map key read
  (global $klen (mut i32) (i32.const 0))
  (global $key_ptr (mut i32) (i32.const 0)) ;; event.value.key
  (global $key_len (mut i32) (i32.const -1))
  (global $by (mut i64) (i64.const 0))
  (global $have_by (mut i32) (i32.const 0))
  (global $count (mut i64) (i64.const 0))
  (global $events (mut i64) (i64.const 0))
  (global $version (mut i64) (i64.const 0))

  ;; ---- reading ----

  (func $byte (result i32)
    (local $b i32)
    (if (i32.ge_u (global.get $pos) (global.get $end)) (then unreachable))
    (local.set $b (i32.load8_u (global.get $pos)))
    (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
    (local.get $b))

  ;; Advances $pos by n bytes, trapping past the end of input.
  (func $advance (param $n i64)
    (if (i64.gt_u (local.get $n) (i64.extend_i32_u (i32.sub (global.get $end) (global.get $pos)))) (then unreachable))
    (global.set $pos (i32.add (global.get $pos) (i32.wrap_i64 (local.get $n)))))

  ;; Reads one CBOR head: sets $major, returns the argument. Indefinite lengths trap.
  (func $head (result i64)
    (local $ib i32) (local $ai i32) (local $n i64) (local $size i32)
    (local.set $ib (call $byte))
    (global.set $major (i32.shr_u (local.get $ib) (i32.const 5)))
    (local.set $ai (i32.and (local.get $ib) (i32.const 31)))
    (if (i32.lt_u (local.get $ai) (i32.const 24)) (then (return (i64.extend_i32_u (local.get $ai)))))
    (if (i32.gt_u (local.get $ai) (i32.const 27)) (then unreachable))
    (local.set $size (i32.shl (i32.const 1) (i32.sub (local.get $ai) (i32.const 24))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $size)))
        (local.set $n (i64.or (i64.shl (local.get $n) (i64.const 8)) (i64.extend_i32_u (call $byte))))
        (local.set $size (i32.sub (local.get $size) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; Skips one complete CBOR item of any type.
  (func $skip
    (local $n i64) (local $m i32)
    (local.set $n (call $head))
    (local.set $m (global.get $major))
    (if (i32.or (i32.eq (local.get $m) (i32.const 2)) (i32.eq (local.get $m) (i32.const 3)))
      (then (call $advance (local.get $n)) (return)))
    (if (i32.lt_u (local.get $m) (i32.const 4)) (then (return)))
    (if (i32.eq (local.get $m) (i32.const 7)) (then (return)))
    (if (i32.eq (local.get $m) (i32.const 5)) (then (local.set $n (i64.shl (local.get $n) (i64.const 1)))))
    (if (i32.eq (local.get $m) (i32.const 6)) (then (local.set $n (i64.const 1))))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (call $skip)
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next))))

  (func $uint (result i64)
    (local $n i64)
    (local.set $n (call $head))
    (if (global.get $major) (then unreachable))
    (local.get $n))

  ;; Reads a map head; returns its entry count.
  (func $map (result i64)
    (local $n i64)
    (local.set $n (call $head))
    (if (i32.ne (global.get $major) (i32.const 5)) (then unreachable))
    (local.get $n))

  ;; Reads a text item, leaving its bytes in ($kptr, $klen).
  (func $text
    (local $n i64)
    (local.set $n (call $head))
    (if (i32.ne (global.get $major) (i32.const 3)) (then unreachable))
    (global.set $kptr (global.get $pos))
    (global.set $klen (i32.wrap_i64 (local.get $n)))
    (call $advance (local.get $n)))

  ;; Is the last text read equal to memory[c, c+clen)?
  (func $is (param $c i32) (param $clen i32) (result i32)
    (local $i i32)
    (if (i32.ne (global.get $klen) (local.get $clen)) (then (return (i32.const 0))))
    (block $same
      (loop $next
        (br_if $same (i32.eq (local.get $i) (local.get $clen)))
        (if (i32.ne (i32.load8_u (i32.add (global.get $kptr) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $c) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; event.value = {key: text, by: nat}
  (func $parse_value
    (local $n i64)
    (local.set $n (call $map))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (call $text)
        (if (call $is (i32.const 24) (i32.const 3))
          (then
            (call $text)
            (global.set $key_ptr (global.get $kptr))
            (global.set $key_len (global.get $klen))
            (br $next)))
        (if (call $is (i32.const 32) (i32.const 2))
          (then
            (global.set $by (call $uint))
            (global.set $have_by (i32.const 1))
            (br $next)))
        (call $skip)
        (br $next))))

  ;; event = {schema, value, key}: only value matters to the counter.
  (func $parse_event
    (local $n i64)
    (local.set $n (call $map))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (call $text)
        (if (call $is (i32.const 16) (i32.const 5)) (then (call $parse_value) (br $next)))
        (call $skip)
        (br $next))))

  ;; state = null | {count: nat, events: nat}
  (func $parse_state
    (local $n i64)
    (if (i32.eq (i32.load8_u (global.get $pos)) (i32.const 0xf6))
      (then (global.set $pos (i32.add (global.get $pos) (i32.const 1))) (return)))
    (local.set $n (call $map))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (call $text)
        (if (call $is (i32.const 40) (i32.const 5)) (then (global.set $count (call $uint)) (br $next)))
        (if (call $is (i32.const 48) (i32.const 6)) (then (global.set $events (call $uint)) (br $next)))
        (call $skip)
        (br $next))))

  (func $parse_envelope
    (local $n i64)
    (local.set $n (call $map))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (call $text)
        (if (call $is (i32.const 0) (i32.const 5)) (then (call $parse_state) (br $next)))
        (if (call $is (i32.const 8) (i32.const 5)) (then (call $parse_event) (br $next)))
        (if (call $is (i32.const 56) (i32.const 7)) (then (global.set $version (call $uint)) (br $next)))
        (call $skip)
        (br $next)))
    (if (i32.ne (global.get $pos) (global.get $end)) (then unreachable))
    (if (i64.ne (global.get $version) (i64.const 1)) (then unreachable))
    (if (i32.lt_s (global.get $key_len) (i32.const 0)) (then unreachable))
    (if (i32.eqz (global.get $have_by)) (then unreachable)))

  ;; ---- writing (canonical: shortest heads) ----

  (func $wbyte (param $b i32)
    (i32.store8 (global.get $out) (local.get $b))
    (global.set $out (i32.add (global.get $out) (i32.const 1))))

  (func $wcopy (param $p i32) (param $len i32)
    (memory.copy (global.get $out) (local.get $p) (local.get $len))
    (global.set $out (i32.add (global.get $out) (local.get $len))))

  (func $whead (param $major i32) (param $n i64)
    (local $m i32) (local $size i32)
    (local.set $m (i32.shl (local.get $major) (i32.const 5)))
    (if (i64.lt_u (local.get $n) (i64.const 24))
      (then (call $wbyte (i32.or (local.get $m) (i32.wrap_i64 (local.get $n)))) (return)))
    (local.set $size (i32.const 8))
    (if (i64.le_u (local.get $n) (i64.const 0xffffffff)) (then (local.set $size (i32.const 4))))
    (if (i64.le_u (local.get $n) (i64.const 0xffff)) (then (local.set $size (i32.const 2))))
    (if (i64.le_u (local.get $n) (i64.const 0xff)) (then (local.set $size (i32.const 1))))
    ;; additional info 24/25/26/27 for 1/2/4/8 bytes = 24 + ctz(size)
    (call $wbyte (i32.or (local.get $m) (i32.add (i32.const 24) (i32.ctz (local.get $size)))))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $size)))
        (local.set $size (i32.sub (local.get $size) (i32.const 1)))
        (call $wbyte (i32.wrap_i64 (i64.shr_u (local.get $n) (i64.extend_i32_u (i32.shl (local.get $size) (i32.const 3))))))
        (br $next))))

  (func $wkey
    (call $whead (i32.const 3) (i64.extend_i32_u (global.get $key_len)))
    (call $wcopy (global.get $key_ptr) (global.get $key_len)))

  ;; ---- entry point ----

  (func (export "step") (result i32)
    (local $len i64) (local $i i64) (local $old i64) (local $new i64) (local $h i64) (local $olen i32)
    (local $need i32)
    ;; Layout: input copy at 1024, output right after it. Output < 256 + 2 * key length.
    (local.set $len (call $input_length))
    (if (i64.gt_u (local.get $len) (i64.const 0x1000000)) (then unreachable))
    (local.set $need (i32.add (i32.const 1280) (i32.mul (i32.wrap_i64 (local.get $len)) (i32.const 3))))
    (if (i32.gt_u (local.get $need) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $need) (i32.const 0xffff)) (i32.const 16)) (memory.size))))))
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
        (i64.store (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i))) (call $input_load_u64 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i))) (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    ;; The instance lives across calls: clear everything the last step left behind.
    (global.set $count (i64.const 0))
    (global.set $events (i64.const 0))
    (global.set $by (i64.const 0))
    (global.set $have_by (i32.const 0))
    (global.set $key_len (i32.const -1))
    (global.set $version (i64.const 0))
    (global.set $pos (i32.const 1024))
    (global.set $end (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $len))))
    (call $parse_envelope)

    (local.set $old (global.get $count))
    (local.set $new (i64.add (local.get $old) (global.get $by)))
    (global.set $out (global.get $end))
    (call $wcopy (i32.const 64) (i32.const 19))
    (call $whead (i32.const 0) (local.get $new))
    (call $wcopy (i32.const 96) (i32.const 7))
    (call $whead (i32.const 0) (i64.add (global.get $events) (i64.const 1)))
    (call $wcopy (i32.const 96) (i32.const 7))
    (if (i64.ne (i64.div_u (local.get $old) (i64.const 100)) (i64.div_u (local.get $new) (i64.const 100)))
      (then
        (call $wcopy (i32.const 112) (i32.const 6))
        (call $wkey)
        (call $wcopy (i32.const 128) (i32.const 11))
        (call $wkey)
        (call $wcopy (i32.const 144) (i32.const 6))
        (call $whead (i32.const 0) (local.get $new))
        (call $wcopy (i32.const 160) (i32.const 31)))
      (else (call $wbyte (i32.const 0x80))))
    (call $wcopy (i32.const 192) (i32.const 9))

    ;; Hand the bytes to the host: alloc a block, store 8 bytes at a time, then the tail.
    (local.set $olen (i32.sub (global.get $out) (global.get $end)))
    (local.set $h (call $alloc (i64.extend_i32_u (local.get $olen))))
    (local.set $i (i64.const 0))
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (i64.extend_i32_u (local.get $olen))))
        (call $store_u64 (i64.add (local.get $h) (local.get $i)) (i64.load (i32.add (global.get $end) (i32.wrap_i64 (local.get $i)))))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $next)))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (i64.extend_i32_u (local.get $olen))))
        (call $store_u8 (i64.add (local.get $h) (local.get $i)) (i32.load8_u (i32.add (global.get $end) (i32.wrap_i64 (local.get $i)))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    (call $output_set (local.get $h) (i64.extend_i32_u (local.get $olen)))
    (i32.const 0))
)
