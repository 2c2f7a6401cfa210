//! worldkernel Zig SDK (Zig 0.11, freestanding wasm32): Extism kernel imports, a CBOR
//! value type with a decoder and a canonical encoder (RFC 8949 §4.2.1: shortest heads,
//! map keys sorted by their encoded bytes), and `runStep`, which reads the ABI-v1
//! envelope, calls the author's step and writes the output envelope.
const std = @import("std");
const Allocator = std.mem.Allocator;

extern "extism:host/env" fn input_length() u64;
extern "extism:host/env" fn input_load_u8(off: u64) u8;
extern "extism:host/env" fn input_load_u64(off: u64) u64;
extern "extism:host/env" fn alloc(n: u64) u64;
extern "extism:host/env" fn store_u8(off: u64, b: u8) void;
extern "extism:host/env" fn store_u64(off: u64, v: u64) void;
extern "extism:host/env" fn output_set(off: u64, n: u64) void;
extern "extism:host/env" fn error_set(off: u64) void;

pub const abi_version: u64 = 1;

/// One CBOR value.
pub const Value = union(enum) {
    uint: u64,
    /// value = -1 - n
    nint: u64,
    bytes: []const u8,
    text: []const u8,
    array: []const Value,
    map: []const Entry,
    tag: Tagged,
    /// 20 false, 21 true, 22 null, 23 undefined
    simple: u8,
    float: Float,

    /// The value under a text key of a map, or null.
    pub fn get(self: Value, key: []const u8) ?Value {
        if (self != .map) return null;
        for (self.map) |e| {
            if (e.key == .text and std.mem.eql(u8, e.key.text, key)) return e.value;
        }
        return null;
    }
    pub fn isNull(self: Value) bool {
        return self == .simple and self.simple == 22;
    }
    pub fn asU64(self: Value) !u64 {
        return if (self == .uint) self.uint else error.ExpectedUnsigned;
    }
    pub fn asText(self: Value) ![]const u8 {
        return if (self == .text) self.text else error.ExpectedText;
    }
    /// Text, or null when the value is CBOR null.
    pub fn asTextOrNull(self: Value) !?[]const u8 {
        return if (self.isNull()) null else try self.asText();
    }
};
pub const Entry = struct { key: Value, value: Value };
pub const Tagged = struct { num: u64, value: *const Value };
pub const Float = struct { size: u8, bits: u64 };

pub const nil = Value{ .simple = 22 };
pub fn uint(n: u64) Value {
    return .{ .uint = n };
}
pub fn text(s: []const u8) Value {
    return .{ .text = s };
}
pub fn textOrNull(s: ?[]const u8) Value {
    return if (s) |t| .{ .text = t } else nil;
}
/// A text-keyed map entry.
pub fn field(name: []const u8, value: Value) Entry {
    return .{ .key = .{ .text = name }, .value = value };
}
/// A map value owning a copy of `entries`.
pub fn mapOf(a: Allocator, entries: []const Entry) !Value {
    return .{ .map = try a.dupe(Entry, entries) };
}
/// An array value owning a copy of `items`.
pub fn arrayOf(a: Allocator, items: []const Value) !Value {
    return .{ .array = try a.dupe(Value, items) };
}

// ---- decoder ----

const Reader = struct {
    buf: []const u8,
    pos: usize = 0,

    fn byte(r: *Reader) !u8 {
        if (r.pos >= r.buf.len) return error.Truncated;
        r.pos += 1;
        return r.buf[r.pos - 1];
    }
    fn take(r: *Reader, n: u64) ![]const u8 {
        if (n > r.buf.len - r.pos) return error.Truncated;
        const s = r.buf[r.pos .. r.pos + @as(usize, @intCast(n))];
        r.pos += s.len;
        return s;
    }
    fn value(r: *Reader, a: Allocator, depth: u32) anyerror!Value {
        if (depth > 64) return error.TooDeep;
        const ib = try r.byte();
        const major = ib >> 5;
        const ai = ib & 31;
        if (ai >= 28) return error.IndefiniteOrReserved;
        var n: u64 = ai;
        if (ai >= 24) {
            n = 0;
            var i: u32 = 0;
            while (i < (@as(u32, 1) << @as(u5, @intCast(ai - 24)))) : (i += 1) n = (n << 8) | try r.byte();
        }
        switch (major) {
            0 => return .{ .uint = n },
            1 => return .{ .nint = n },
            2 => return .{ .bytes = try r.take(n) },
            3 => return .{ .text = try r.take(n) },
            4 => {
                if (n > r.buf.len - r.pos) return error.Truncated;
                const items = try a.alloc(Value, @intCast(n));
                for (items) |*it| it.* = try r.value(a, depth + 1);
                return .{ .array = items };
            },
            5 => {
                if (n > r.buf.len - r.pos) return error.Truncated;
                const entries = try a.alloc(Entry, @intCast(n));
                for (entries) |*e| {
                    e.key = try r.value(a, depth + 1);
                    e.value = try r.value(a, depth + 1);
                }
                return .{ .map = entries };
            },
            6 => {
                const inner = try a.create(Value);
                inner.* = try r.value(a, depth + 1);
                return .{ .tag = .{ .num = n, .value = inner } };
            },
            else => {
                if (ai >= 20 and ai <= 23) return .{ .simple = ai };
                if (ai >= 25) return .{ .float = .{ .size = @as(u8, 1) << @as(u3, @intCast(ai - 24)), .bits = n } };
                return error.UnsupportedSimple;
            },
        }
    }
};

/// Decodes exactly one CBOR value filling `bytes` (slices point into `bytes`).
pub fn decode(a: Allocator, bytes: []const u8) !Value {
    var r = Reader{ .buf = bytes };
    const v = try r.value(a, 0);
    if (r.pos != bytes.len) return error.TrailingBytes;
    return v;
}

// ---- canonical encoder ----

fn head(out: *std.ArrayList(u8), major: u8, n: u64) !void {
    const m = major << 5;
    if (n < 24) return out.append(m | @as(u8, @intCast(n)));
    const size: u8 = if (n <= 0xff) 1 else if (n <= 0xffff) 2 else if (n <= 0xffffffff) 4 else 8;
    const ai: u8 = switch (size) {
        1 => 24,
        2 => 25,
        4 => 26,
        else => 27,
    };
    try out.append(m | ai);
    var i: u8 = size;
    while (i > 0) {
        i -= 1;
        try out.append(@truncate(n >> @as(u6, @intCast(i * 8))));
    }
}

fn lessBytes(x: []const u8, y: []const u8) bool {
    return std.mem.order(u8, x, y) == .lt;
}

fn write(a: Allocator, out: *std.ArrayList(u8), v: Value) anyerror!void {
    switch (v) {
        .uint => |n| try head(out, 0, n),
        .nint => |n| try head(out, 1, n),
        .bytes => |b| {
            try head(out, 2, b.len);
            try out.appendSlice(b);
        },
        .text => |t| {
            try head(out, 3, t.len);
            try out.appendSlice(t);
        },
        .array => |items| {
            try head(out, 4, items.len);
            for (items) |it| try write(a, out, it);
        },
        .map => |entries| {
            // Keys sorted by their encoded bytes (RFC 8949 §4.2.1); duplicates are an error.
            const keys = try a.alloc([]const u8, entries.len);
            const order = try a.alloc(usize, entries.len);
            for (entries, 0..) |e, i| {
                var kb = std.ArrayList(u8).init(a);
                try write(a, &kb, e.key);
                keys[i] = kb.items;
                order[i] = i;
            }
            var i: usize = 1;
            while (i < order.len) : (i += 1) {
                const cur = order[i];
                var j = i;
                while (j > 0 and lessBytes(keys[cur], keys[order[j - 1]])) : (j -= 1) order[j] = order[j - 1];
                order[j] = cur;
            }
            i = 1;
            while (i < order.len) : (i += 1) {
                if (std.mem.eql(u8, keys[order[i - 1]], keys[order[i]])) return error.DuplicateKey;
            }
            try head(out, 5, entries.len);
            for (order) |k| {
                try out.appendSlice(keys[k]);
                try write(a, out, entries[k].value);
            }
        },
        .tag => |t| {
            try head(out, 6, t.num);
            try write(a, out, t.value.*);
        },
        .simple => |s| try out.append(0xe0 | s),
        .float => |f| {
            const ai: u8 = switch (f.size) {
                2 => 25,
                4 => 26,
                else => 27,
            };
            try out.append(0xe0 | ai);
            var i: u8 = f.size;
            while (i > 0) {
                i -= 1;
                try out.append(@truncate(f.bits >> @as(u6, @intCast(i * 8))));
            }
        },
    }
}

/// Canonical CBOR bytes of `v`.
pub fn encode(a: Allocator, v: Value) ![]const u8 {
    var out = std.ArrayList(u8).init(a);
    try write(a, &out, v);
    return out.items;
}

// ---- envelope ----

pub const Event = struct { schema: []const u8, value: Value, key: ?[]const u8 };
pub const Effect = struct { kind: []const u8, params: Value, cap_slot: []const u8 };

/// Ingress-stamped context, replayed verbatim.
pub const Ctx = struct {
    now_ns: u64,
    logical_now: u64,
    journal_height: u64,
    entropy: []const u8,
    event_hash: []const u8,
    manifest_hash: []const u8,
    module: []const u8,
    key: ?[]const u8,
    raw: Value,
};

/// What a step returns; `state = nil` deletes the cell.
pub const Result = struct {
    state: Value,
    events: []const Event = &.{},
    effects: []const Effect = &.{},
    ann: Value = nil,
};

pub const StepFn = fn (a: Allocator, state: ?Value, event: Event, ctx: Ctx) anyerror!Result;

fn need(m: Value, key: []const u8) !Value {
    return m.get(key) orelse error.MissingEnvelopeField;
}

fn readInput(a: Allocator) ![]u8 {
    const n: usize = @intCast(input_length());
    const buf = try a.alloc(u8, n);
    var i: usize = 0;
    while (i + 8 <= n) : (i += 8) std.mem.writeIntLittle(u64, buf[i..][0..8], input_load_u64(i));
    while (i < n) : (i += 1) buf[i] = input_load_u8(i);
    return buf;
}

fn writeOutput(bytes: []const u8) void {
    const h = alloc(bytes.len);
    var i: usize = 0;
    while (i + 8 <= bytes.len) : (i += 8) store_u64(h + i, std.mem.readIntLittle(u64, bytes[i..][0..8]));
    while (i < bytes.len) : (i += 1) store_u8(h + i, bytes[i]);
    output_set(h, bytes.len);
}

fn fail(err: anyerror) i32 {
    const msg = @errorName(err);
    const h = alloc(msg.len);
    for (msg, 0..) |b, i| store_u8(h + i, b);
    error_set(h);
    return 1;
}

fn readCtx(c: Value) !Ctx {
    return .{
        .now_ns = try (try need(c, "now_ns")).asU64(),
        .logical_now = try (try need(c, "logical_now")).asU64(),
        .journal_height = try (try need(c, "journal_height")).asU64(),
        .entropy = switch (try need(c, "entropy")) {
            .bytes => |b| b,
            else => return error.ExpectedBytes,
        },
        .event_hash = try (try need(c, "event_hash")).asText(),
        .manifest_hash = try (try need(c, "manifest_hash")).asText(),
        .module = try (try need(c, "module")).asText(),
        .key = try (try need(c, "key")).asTextOrNull(),
        .raw = c,
    };
}

fn step(a: Allocator, comptime f: StepFn) !void {
    const env = try decode(a, try readInput(a));
    if (try (try need(env, "version")).asU64() != abi_version) return error.UnsupportedAbiVersion;
    const s = try need(env, "state");
    const e = try need(env, "event");
    const event = Event{
        .schema = try (try need(e, "schema")).asText(),
        .value = try need(e, "value"),
        .key = try (try need(e, "key")).asTextOrNull(),
    };
    const r = try f(a, if (s.isNull()) null else s, event, try readCtx(try need(env, "ctx")));
    const events = try a.alloc(Value, r.events.len);
    for (r.events, 0..) |ev, i| events[i] = try mapOf(a, &.{ field("schema", text(ev.schema)), field("value", ev.value), field("key", textOrNull(ev.key)) });
    const effects = try a.alloc(Value, r.effects.len);
    for (r.effects, 0..) |ef, i| effects[i] = try mapOf(a, &.{ field("kind", text(ef.kind)), field("params", ef.params), field("cap_slot", text(ef.cap_slot)) });
    const out = try mapOf(a, &.{ field("state", r.state), field("events", .{ .array = events }), field("effects", .{ .array = effects }), field("ann", r.ann) });
    writeOutput(try encode(a, out));
}

/// Every allocation of a call comes from this fixed buffer, reset per call. A step that never
/// grows memory lets the kernel restore the module's fresh state instead of instantiating it
/// anew (about 50x cheaper); a step that needs more than this fails with OutOfMemory.
var heap: [256 * 1024]u8 = undefined;

/// Body of an exported `step`: every allocation lives in a per-call buffer.
pub fn runStep(comptime f: StepFn) i32 {
    var fba = std.heap.FixedBufferAllocator.init(&heap);
    step(fba.allocator(), f) catch |err| return fail(err);
    return 0;
}

pub const RunFn = fn (a: Allocator, input: Value, ctx: Ctx) anyerror!Value;

fn pure(a: Allocator, comptime f: RunFn) !void {
    const env = try decode(a, try readInput(a));
    if (try (try need(env, "version")).asU64() != abi_version) return error.UnsupportedAbiVersion;
    const out = try f(a, try need(env, "input"), try readCtx(try need(env, "ctx")));
    writeOutput(try encode(a, try mapOf(a, &.{field("output", out)})));
}

/// Body of an exported `run`: `{version, input, ctx}` in, `{output}` out.
pub fn runPure(comptime f: RunFn) i32 {
    var fba = std.heap.FixedBufferAllocator.init(&heap);
    pure(fba.allocator(), f) catch |err| return fail(err);
    return 0;
}
