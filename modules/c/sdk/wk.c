/*
 * worldkernel C SDK implementation: Extism kernel imports, arena, CBOR reader and
 * canonical writer, envelope handling. Freestanding: no libc; the few memory routines
 * the compiler may call are defined here (bulk-memory instructions).
 */
#include "wk.h"

#define IMPORT(name) __attribute__((import_module("extism:host/env"), import_name(name)))
IMPORT("input_length") uint64_t extism_input_length(void);
IMPORT("input_load_u8") uint32_t extism_input_load_u8(uint64_t off);
IMPORT("input_load_u64") uint64_t extism_input_load_u64(uint64_t off);
IMPORT("alloc") uint64_t extism_alloc(uint64_t n);
IMPORT("store_u8") void extism_store_u8(uint64_t off, uint32_t b);
IMPORT("store_u64") void extism_store_u64(uint64_t off, uint64_t v);
IMPORT("output_set") void extism_output_set(uint64_t off, uint64_t n);
IMPORT("error_set") void extism_error_set(uint64_t off);

/* ---- memory routines the compiler may emit calls to ---- */
void *memcpy(void *d, const void *s, size_t n) { __builtin_memcpy(d, s, n); return d; }
void *memmove(void *d, const void *s, size_t n) { __builtin_memmove(d, s, n); return d; }
void *memset(void *d, int c, size_t n) { __builtin_memset(d, c, n); return d; }
int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (size_t i = 0; i < n; i++) if (x[i] != y[i]) return (int)x[i] - (int)y[i];
  return 0;
}

/* ---- arena: bump allocation from __heap_base, reset per call ---- */
extern uint8_t __heap_base;
static size_t arena_top;

static void arena_reset(void) { arena_top = (size_t)&__heap_base; }

void *wk_alloc(size_t n) {
  if (arena_top == 0) arena_reset();
  size_t start = (arena_top + 7) & ~(size_t)7;
  size_t end = start + n;
  if (end < start) wk_fail("wk: arena overflow");
  size_t have = __builtin_wasm_memory_size(0) * 65536;
  if (end > have) {
    size_t pages = (end - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) wk_fail("wk: out of memory");
  }
  arena_top = end;
  memset((void *)start, 0, n);
  return (void *)start;
}

static uint32_t cstrlen(const char *s) { uint32_t n = 0; while (s[n]) n++; return n; }

__attribute__((noreturn)) void wk_fail(const char *msg) {
  uint32_t n = cstrlen(msg);
  uint64_t h = extism_alloc(n);
  for (uint32_t i = 0; i < n; i++) extism_store_u8(h + i, (uint8_t)msg[i]);
  extism_error_set(h);
  __builtin_trap();
}

/* ---- builders ---- */
static wk_val *val(wk_kind k) { wk_val *v = wk_alloc(sizeof(wk_val)); v->kind = k; return v; }
wk_val *wk_uint(uint64_t n) { wk_val *v = val(WK_UINT); v->num = n; return v; }
wk_val *wk_int(int64_t n) {
  if (n >= 0) return wk_uint((uint64_t)n);
  wk_val *v = val(WK_NINT); v->num = (uint64_t)(-1 - n); return v;
}
wk_val *wk_null(void) { return val(WK_NULL); }
wk_val *wk_bool(int b) { return val(b ? WK_TRUE : WK_FALSE); }
wk_val *wk_textn(const uint8_t *p, uint32_t n) {
  wk_val *v = val(WK_TEXT); uint8_t *c = wk_alloc(n); memcpy(c, p, n); v->ptr = c; v->len = n; return v;
}
wk_val *wk_text(const char *s) { return wk_textn((const uint8_t *)s, cstrlen(s)); }
wk_val *wk_bytes(const uint8_t *p, uint32_t n) { wk_val *v = wk_textn(p, n); v->kind = WK_BYTES; return v; }
wk_val *wk_array(void) { return val(WK_ARRAY); }
wk_val *wk_map(void) { return val(WK_MAP); }

static void reserve(wk_val *v, uint32_t slots) {
  if (slots <= v->cap) return;
  uint32_t cap = v->cap ? v->cap * 2 : 8;
  while (cap < slots) cap *= 2;
  wk_val **items = wk_alloc(sizeof(wk_val *) * cap);
  if (v->items) memcpy(items, v->items, sizeof(wk_val *) * v->cap);
  v->items = items;
  v->cap = cap;
}

wk_val *wk_push(wk_val *a, wk_val *item) {
  if (a->kind != WK_ARRAY) wk_fail("wk: push on a non-array");
  reserve(a, a->len + 1);
  a->items[a->len++] = item;
  return a;
}

static int text_is(const wk_val *v, const char *s) {
  uint32_t n = cstrlen(s);
  return v->kind == WK_TEXT && v->len == n && memcmp(v->ptr, s, n) == 0;
}

wk_val *wk_set(wk_val *m, const char *key, wk_val *value) {
  if (m->kind != WK_MAP) wk_fail("wk: set on a non-map");
  for (uint32_t i = 0; i < m->len; i++)
    if (text_is(m->items[2 * i], key)) { m->items[2 * i + 1] = value; return m; }
  reserve(m, 2 * m->len + 2);
  m->items[2 * m->len] = wk_text(key);
  m->items[2 * m->len + 1] = value;
  m->len++;
  return m;
}

const wk_val *wk_get(const wk_val *m, const char *key) {
  if (!m || m->kind != WK_MAP) return 0;
  for (uint32_t i = 0; i < m->len; i++) if (text_is(m->items[2 * i], key)) return m->items[2 * i + 1];
  return 0;
}

int wk_is_null(const wk_val *v) { return !v || v->kind == WK_NULL; }

uint64_t wk_as_u64(const wk_val *v) {
  if (!v || v->kind != WK_UINT) wk_fail("wk: expected an unsigned integer");
  return v->num;
}

int wk_text_eq(const wk_val *a, const wk_val *b) {
  return a && b && a->kind == WK_TEXT && b->kind == WK_TEXT && a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* ---- decoder ---- */
typedef struct { const uint8_t *p; uint32_t n, pos; int bad; } reader;

static uint8_t rbyte(reader *r) { if (r->pos >= r->n) { r->bad = 1; return 0; } return r->p[r->pos++]; }

static wk_val *rvalue(reader *r, int depth) {
  if (depth > 64) { r->bad = 1; return 0; }
  uint8_t ib = rbyte(r);
  if (r->bad) return 0;
  uint8_t major = ib >> 5, ai = ib & 31;
  uint64_t n = ai;
  if (ai >= 28) { r->bad = 1; return 0; }
  if (ai >= 24) {
    n = 0;
    for (int i = 0; i < (1 << (ai - 24)); i++) n = (n << 8) | rbyte(r);
    if (r->bad) return 0;
  }
  wk_val *v;
  switch (major) {
    case 0: return wk_uint(n);
    case 1: v = val(WK_NINT); v->num = n; return v;
    case 2: case 3:
      if (n > r->n - r->pos) { r->bad = 1; return 0; }
      v = val(major == 2 ? WK_BYTES : WK_TEXT);
      v->ptr = r->p + r->pos; v->len = (uint32_t)n; r->pos += (uint32_t)n;
      return v;
    case 4: case 5: {
      uint64_t slots = major == 5 ? 2 * n : n;
      if (slots > r->n - r->pos) { r->bad = 1; return 0; } /* each item needs at least a byte */
      v = val(major == 4 ? WK_ARRAY : WK_MAP);
      reserve(v, (uint32_t)slots);
      for (uint64_t i = 0; i < slots; i++) {
        v->items[i] = rvalue(r, depth + 1);
        if (r->bad) return 0;
      }
      v->len = (uint32_t)n;
      return v;
    }
    case 6:
      v = val(WK_TAG); v->num = n; reserve(v, 1);
      v->items[0] = rvalue(r, depth + 1); v->len = 1;
      return r->bad ? 0 : v;
    default:
      if (ai == 20) return val(WK_FALSE);
      if (ai == 21) return val(WK_TRUE);
      if (ai == 22) return val(WK_NULL);
      if (ai == 23) return val(WK_UNDEFINED);
      if (ai < 25) { r->bad = 1; return 0; }
      v = val(WK_FLOAT); v->num = n; v->len = 1u << (ai - 24);
      return v;
  }
}

wk_val *wk_decode(const uint8_t *p, uint32_t n) {
  reader r = { p, n, 0, 0 };
  wk_val *v = rvalue(&r, 0);
  return (r.bad || r.pos != n) ? 0 : v;
}

/* ---- canonical encoder ---- */
typedef struct { uint8_t *buf; uint32_t len, cap; } writer;

static void wbyte(writer *w, uint8_t b) {
  if (w->len == w->cap) {
    uint32_t cap = w->cap ? w->cap * 2 : 256;
    uint8_t *buf = wk_alloc(cap);
    if (w->buf) memcpy(buf, w->buf, w->len);
    w->buf = buf; w->cap = cap;
  }
  w->buf[w->len++] = b;
}

static void wraw(writer *w, const uint8_t *p, uint32_t n) { for (uint32_t i = 0; i < n; i++) wbyte(w, p[i]); }

static void whead(writer *w, uint8_t major, uint64_t n) {
  uint8_t m = (uint8_t)(major << 5);
  if (n < 24) { wbyte(w, m | (uint8_t)n); return; }
  int size = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffull ? 4 : 8;
  wbyte(w, m | (uint8_t)(size == 1 ? 24 : size == 2 ? 25 : size == 4 ? 26 : 27));
  for (int i = size - 1; i >= 0; i--) wbyte(w, (uint8_t)(n >> (8 * i)));
}

static int cmp_bytes(const writer *a, const writer *b) {
  uint32_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->buf, b->buf, n);
  if (c) return c;
  return (int)a->len - (int)b->len;
}

static void wvalue(writer *w, const wk_val *v);

/* Map entries in the order of their encoded keys, as RFC 8949 §4.2.1 requires. */
static void wmap(writer *w, const wk_val *v) {
  uint32_t n = v->len;
  writer *keys = wk_alloc(sizeof(writer) * (n ? n : 1));
  uint32_t *order = wk_alloc(sizeof(uint32_t) * (n ? n : 1));
  for (uint32_t i = 0; i < n; i++) { wvalue(&keys[i], v->items[2 * i]); order[i] = i; }
  for (uint32_t i = 1; i < n; i++) {
    uint32_t cur = order[i];
    int32_t j = (int32_t)i - 1;
    while (j >= 0 && cmp_bytes(&keys[order[j]], &keys[cur]) > 0) { order[j + 1] = order[j]; j--; }
    order[j + 1] = cur;
  }
  for (uint32_t i = 1; i < n; i++)
    if (cmp_bytes(&keys[order[i - 1]], &keys[order[i]]) == 0) wk_fail("wk: duplicate map key");
  whead(w, 5, n);
  for (uint32_t i = 0; i < n; i++) {
    wraw(w, keys[order[i]].buf, keys[order[i]].len);
    wvalue(w, v->items[2 * order[i] + 1]);
  }
}

static void wvalue(writer *w, const wk_val *v) {
  if (!v) { wbyte(w, 0xf6); return; }
  switch (v->kind) {
    case WK_UINT: whead(w, 0, v->num); break;
    case WK_NINT: whead(w, 1, v->num); break;
    case WK_BYTES: whead(w, 2, v->len); wraw(w, v->ptr, v->len); break;
    case WK_TEXT: whead(w, 3, v->len); wraw(w, v->ptr, v->len); break;
    case WK_ARRAY: whead(w, 4, v->len); for (uint32_t i = 0; i < v->len; i++) wvalue(w, v->items[i]); break;
    case WK_MAP: wmap(w, v); break;
    case WK_TAG: whead(w, 6, v->num); wvalue(w, v->items[0]); break;
    case WK_FALSE: wbyte(w, 0xf4); break;
    case WK_TRUE: wbyte(w, 0xf5); break;
    case WK_NULL: wbyte(w, 0xf6); break;
    case WK_UNDEFINED: wbyte(w, 0xf7); break;
    case WK_FLOAT: {
      wbyte(w, (uint8_t)(0xe0 | (v->len == 2 ? 25 : v->len == 4 ? 26 : 27)));
      for (int i = (int)v->len - 1; i >= 0; i--) wbyte(w, (uint8_t)(v->num >> (8 * i)));
      break;
    }
  }
}

uint8_t *wk_encode(const wk_val *v, uint32_t *out_len) {
  writer w = { 0, 0, 0 };
  wvalue(&w, v);
  *out_len = w.len;
  return w.buf;
}

/* ---- results ---- */
wk_result wk_result_new(wk_val *state) {
  wk_result r = { state, wk_array(), wk_array(), wk_null() };
  return r;
}

void wk_emit(wk_result *r, const char *schema, wk_val *value, wk_val *key) {
  wk_val *e = wk_map();
  wk_set(e, "schema", wk_text(schema));
  wk_set(e, "value", value);
  wk_set(e, "key", key ? key : wk_null());
  wk_push(r->events, e);
}

void wk_effect(wk_result *r, const char *kind, wk_val *params, const char *cap_slot) {
  wk_val *e = wk_map();
  wk_set(e, "kind", wk_text(kind));
  wk_set(e, "params", params);
  wk_set(e, "cap_slot", wk_text(cap_slot));
  wk_push(r->effects, e);
}

/* ---- envelope ---- */
static const wk_val *field(const wk_val *m, const char *key) {
  const wk_val *v = wk_get(m, key);
  if (!v) wk_fail("wk: envelope field missing");
  return v;
}

static const wk_val *read_envelope(void) {
  arena_reset();
  uint64_t n = extism_input_length();
  if (n > 0x40000000ull) wk_fail("wk: input too large");
  uint8_t *buf = wk_alloc((size_t)n + 8);
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) { uint64_t x = extism_input_load_u64(i); memcpy(buf + i, &x, 8); }
  for (; i < n; i++) buf[i] = (uint8_t)extism_input_load_u8(i);
  const wk_val *env = wk_decode(buf, (uint32_t)n);
  if (!env || env->kind != WK_MAP) wk_fail("wk: input is not a CBOR map");
  if (wk_as_u64(field(env, "version")) != WK_ABI_VERSION) wk_fail("wk: unsupported ABI version");
  return env;
}

static wk_ctx read_ctx(const wk_val *c) {
  wk_ctx x;
  x.raw = c;
  x.now_ns = wk_as_u64(field(c, "now_ns"));
  x.logical_now = wk_as_u64(field(c, "logical_now"));
  x.journal_height = wk_as_u64(field(c, "journal_height"));
  x.entropy = field(c, "entropy");
  x.event_hash = field(c, "event_hash");
  x.manifest_hash = field(c, "manifest_hash");
  x.module = field(c, "module");
  x.key = field(c, "key");
  return x;
}

static int32_t write_output(const wk_val *v) {
  uint32_t n;
  uint8_t *bytes = wk_encode(v, &n);
  uint64_t h = extism_alloc(n);
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) { uint64_t x; memcpy(&x, bytes + i, 8); extism_store_u64(h + i, x); }
  for (; i < n; i++) extism_store_u8(h + i, bytes[i]);
  extism_output_set(h, n);
  return 0;
}

int32_t wk_step(wk_step_fn fn) {
  const wk_val *env = read_envelope();
  const wk_val *s = field(env, "state");
  const wk_val *e = field(env, "event");
  wk_event ev = { field(e, "schema"), field(e, "value"), field(e, "key") };
  wk_ctx ctx = read_ctx(field(env, "ctx"));
  wk_result r = fn(wk_is_null(s) ? 0 : s, &ev, &ctx);
  wk_val *out = wk_map();
  wk_set(out, "state", r.state ? r.state : wk_null());
  wk_set(out, "events", r.events ? r.events : wk_array());
  wk_set(out, "effects", r.effects ? r.effects : wk_array());
  wk_set(out, "ann", r.ann ? r.ann : wk_null());
  return write_output(out);
}

int32_t wk_run(wk_run_fn fn) {
  const wk_val *env = read_envelope();
  wk_ctx ctx = read_ctx(field(env, "ctx"));
  wk_val *out = wk_map();
  wk_set(out, "output", fn(field(env, "input"), &ctx));
  return write_output(out);
}
