//! The keyed counter workflow in Zig (demo/CounterEvent@1 -> demo/CounterState@1, with a
//! demo/CounterMilestone@1 event whenever the count crosses a multiple of 100).
const std = @import("std");
const wk = @import("wk");

fn counter(a: std.mem.Allocator, state: ?wk.Value, event: wk.Event, ctx: wk.Ctx) anyerror!wk.Result {
    _ = ctx;
    const key = try (event.value.get("key") orelse return error.MissingKey).asText();
    const by = try (event.value.get("by") orelse return error.MissingBy).asU64();
    var old: u64 = 0;
    var seen: u64 = 0;
    if (state) |s| {
        old = try (s.get("count") orelse return error.BadState).asU64();
        seen = try (s.get("events") orelse return error.BadState).asU64();
    }
    const count = old +% by;
    const next = try wk.mapOf(a, &.{ wk.field("count", wk.uint(count)), wk.field("events", wk.uint(seen + 1)) });
    if (old / 100 == count / 100) return .{ .state = next };
    const milestone = try wk.mapOf(a, &.{ wk.field("key", wk.text(key)), wk.field("count", wk.uint(count)) });
    const events = try a.dupe(wk.Event, &.{.{ .schema = "demo/CounterMilestone@1", .value = milestone, .key = key }});
    return .{ .state = next, .events = events };
}

export fn step() i32 {
    return wk.runStep(counter);
}
