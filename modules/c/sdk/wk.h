/*
 * worldkernel C SDK (freestanding wasm32, no libc). An author writes
 *   static wk_result my_step(const wk_val *state, const wk_event *ev, const wk_ctx *ctx)
 * and exports it with WK_EXPORT_STEP(my_step); the SDK reads the ABI-v1 envelope from
 * the Extism input, and writes the output envelope as canonical CBOR (RFC 8949 §4.2.1).
 * All memory comes from an arena that is reset at the start of every step.
 */
#ifndef WK_H
#define WK_H

typedef unsigned char uint8_t;
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
typedef unsigned long size_t;

#define WK_ABI_VERSION 1

typedef enum {
  WK_UINT, WK_NINT, WK_BYTES, WK_TEXT, WK_ARRAY, WK_MAP, WK_TAG,
  WK_FALSE, WK_TRUE, WK_NULL, WK_UNDEFINED, WK_FLOAT
} wk_kind;

/* One CBOR value. */
typedef struct wk_val {
  wk_kind kind;
  uint64_t num;          /* UINT value; NINT n (value = -1 - n); TAG number; FLOAT raw bits */
  const uint8_t *ptr;    /* BYTES / TEXT bytes */
  uint32_t len;          /* BYTES/TEXT length; ARRAY items; MAP entries; FLOAT byte size */
  uint32_t cap;          /* allocated slots in items (builders) */
  struct wk_val **items; /* ARRAY: len items; MAP: 2*len (key, value, ...); TAG: 1 */
} wk_val;

typedef struct {
  const wk_val *schema; /* text */
  const wk_val *value;
  const wk_val *key;    /* text or null */
} wk_event;

/* Ingress-stamped context (replayed verbatim). */
typedef struct {
  uint64_t now_ns, logical_now, journal_height;
  const wk_val *entropy, *event_hash, *manifest_hash, *module, *key;
  const wk_val *raw; /* the whole ctx map */
} wk_ctx;

/* What a step returns. state NULL or wk_null() deletes the cell. */
typedef struct {
  wk_val *state;
  wk_val *events;  /* array of {schema, value, key} */
  wk_val *effects; /* array of {kind, params, cap_slot} */
  wk_val *ann;
} wk_result;

typedef wk_result (*wk_step_fn)(const wk_val *state, const wk_event *event, const wk_ctx *ctx);
typedef wk_val *(*wk_run_fn)(const wk_val *input, const wk_ctx *ctx);

/* Arena. */
void *wk_alloc(size_t n);

/* Builders. */
wk_val *wk_uint(uint64_t n);
wk_val *wk_int(int64_t n);
wk_val *wk_null(void);
wk_val *wk_bool(int b);
wk_val *wk_text(const char *s);
wk_val *wk_textn(const uint8_t *p, uint32_t n);
wk_val *wk_bytes(const uint8_t *p, uint32_t n);
wk_val *wk_array(void);
wk_val *wk_map(void);
wk_val *wk_push(wk_val *array, wk_val *item);
/* Sets a text-keyed entry (replacing an existing one); returns map. */
wk_val *wk_set(wk_val *map, const char *key, wk_val *value);

/* Accessors: NULL when absent or of another kind. */
const wk_val *wk_get(const wk_val *map, const char *key);
int wk_is_null(const wk_val *v);
/* Unsigned value of v; traps (with a message) when v is not an unsigned integer. */
uint64_t wk_as_u64(const wk_val *v);
int wk_text_eq(const wk_val *a, const wk_val *b);

/* Codec. */
wk_val *wk_decode(const uint8_t *p, uint32_t n); /* NULL on malformed input */
/* Canonical bytes of v (arena memory); *out_len receives the length. */
uint8_t *wk_encode(const wk_val *v, uint32_t *out_len);

/* Results. */
wk_result wk_result_new(wk_val *state);
void wk_emit(wk_result *r, const char *schema, wk_val *value, wk_val *key);
void wk_effect(wk_result *r, const char *kind, wk_val *params, const char *cap_slot);

/* Reports a message through Extism's error_set and traps. */
__attribute__((noreturn)) void wk_fail(const char *msg);

/* Bodies of the exported functions. */
int32_t wk_step(wk_step_fn fn);
int32_t wk_run(wk_run_fn fn);

#define WK_EXPORT_STEP(fn) \
  __attribute__((export_name("step"))) int32_t step(void) { return wk_step(fn); }
#define WK_EXPORT_RUN(fn) \
  __attribute__((export_name("run"))) int32_t run(void) { return wk_run(fn); }

#endif
