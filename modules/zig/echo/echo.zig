//! A pure `run` that returns its input: exercises the SDK's CBOR decoder and canonical
//! encoder (tests feed it unsorted maps and expect canonical bytes back).
const std = @import("std");
const wk = @import("wk");

fn echo(a: std.mem.Allocator, input: wk.Value, ctx: wk.Ctx) anyerror!wk.Value {
    _ = a;
    _ = ctx;
    return input;
}

export fn run() i32 {
    return wk.runPure(echo);
}
