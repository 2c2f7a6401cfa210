/**
 * @module The self-upgrading agent (worlds/self-upgrade, demo/Agent@1, keyed by `key`). A
 * `demo/Work@1 {name}` gets a greeting, `GREETING + ", " + name + "!"`, kept in `last`. A
 * `demo/UpgradeRequest@1 {greeting}` asks the agent to change that behaviour: it writes its own
 * source with the new greeting, stores it (`blob.put`), compiles it (`compile.module`) and, on
 * the compile receipt, asks the kernel to propose the new binary for itself
 * (`governance.upgrade` against `ctx.manifest_hash`). People shadow, approve and apply it; the
 * agent never can.
 *
 * The source is a quine with one substituted constant: TEMPLATE is this file with the two
 * string literals below replaced by markers, and `render` puts the new greeting in one and the
 * template itself in the other, so the upgraded agent can upgrade again. The markers are built
 * by concatenation so they occur in the template exactly once each. Every receipt lands in
 * state; an error, timeout or denial is recorded, never trapped on. One effect is in flight at
 * a time (receipts carry no id the module could predict).
 */
import { Cbor, Ctx, Effect, Event, Kind, StepResult, runStep } from "../sdk/index";

const GREETING = "Hello";
const TEMPLATE = "/**\n * @module The self-upgrading agent (worlds/self-upgrade, demo/Agent@1, keyed by `key`). A\n * `demo/Work@1 {name}` gets a greeting, `GREETING + \", \" + name + \"!\"`, kept in `last`. A\n * `demo/UpgradeRequest@1 {greeting}` asks the agent to change that behaviour: it writes its own\n * source with the new greeting, stores it (`blob.put`), compiles it (`compile.module`) and, on\n * the compile receipt, asks the kernel to propose the new binary for itself\n * (`governance.upgrade` against `ctx.manifest_hash`). People shadow, approve and apply it; the\n * agent never can.\n *\n * The source is a quine with one substituted constant: TEMPLATE is this file with the two\n * string literals below replaced by markers, and `render` puts the new greeting in one and the\n * template itself in the other, so the upgraded agent can upgrade again. The markers are built\n * by concatenation so they occur in the template exactly once each. Every receipt lands in\n * state; an error, timeout or denial is recorded, never trapped on. One effect is in flight at\n * a time (receipts carry no id the module could predict).\n */\nimport { Cbor, Ctx, Effect, Event, Kind, StepResult, runStep } from \"../sdk/index\";\n\nconst GREETING = \"%%GREETING%%\";\nconst TEMPLATE = \"%%SOURCE%%\";\n\nconst RECEIPT = \"sys/EffectReceiptEnvelope@1\";\nconst MARK_GREETING = \"%%\" + \"GREETING%%\";\nconst MARK_SOURCE = \"%%\" + \"SOURCE%%\";\nconst HEX = \"0123456789abcdef\";\n\n/** The cell state (demo/AgentState@1); refs are `sha256:<hex>` text. */\nclass S {\n  greeted: u64 = 0;\n  last: string | null = null;\n  phase: string = \"idle\";\n  wanted: string | null = null;\n  source_ref: string | null = null;\n  wasm_ref: string | null = null;\n  proposal_id: string | null = null;\n  errors: Array<string> = [];\n\n  static from(c: Cbor): S {\n    const s = new S();\n    s.greeted = c.get(\"greeted\")!.asU64();\n    s.last = c.get(\"last\")!.asTextOrNull();\n    s.phase = c.get(\"phase\")!.asText();\n    s.wanted = c.get(\"wanted\")!.asTextOrNull();\n    s.source_ref = c.get(\"source_ref\")!.asTextOrNull();\n    s.wasm_ref = c.get(\"wasm_ref\")!.asTextOrNull();\n    s.proposal_id = c.get(\"proposal_id\")!.asTextOrNull();\n    const errors = c.get(\"errors\")!;\n    for (let i = 0; i < errors.items.length; i++) s.errors.push(errors.items[i].asText());\n    return s;\n  }\n\n  toCbor(): Cbor {\n    const errors = Cbor.array();\n    for (let i = 0; i < this.errors.length; i++) errors.push(Cbor.text(this.errors[i]));\n    return Cbor.map()\n      .set(\"greeted\", Cbor.uint(this.greeted)).set(\"last\", Cbor.textOrNull(this.last))\n      .set(\"phase\", Cbor.text(this.phase)).set(\"wanted\", Cbor.textOrNull(this.wanted))\n      .set(\"source_ref\", Cbor.textOrNull(this.source_ref)).set(\"wasm_ref\", Cbor.textOrNull(this.wasm_ref))\n      .set(\"proposal_id\", Cbor.textOrNull(this.proposal_id)).set(\"errors\", errors);\n  }\n}\n\n/** The text of an AssemblyScript string literal holding `s`. */\nfunction quote(s: string): string {\n  return s.replaceAll(\"\\\\\", \"\\\\\\\\\").replaceAll(\"\\\"\", \"\\\\\\\"\").replaceAll(\"\\n\", \"\\\\n\");\n}\n\n/** This module's source with `greeting` in place of GREETING. */\nfunction render(greeting: string): string {\n  return TEMPLATE.replace(MARK_GREETING, quote(greeting)).replace(MARK_SOURCE, quote(TEMPLATE));\n}\n\n/** Why `g` cannot be a greeting, or null: 1 to 40 printable ASCII characters, no quote, backslash, percent or dollar. */\nfunction refusal(g: string): string | null {\n  if (g.length == 0 || g.length > 40) return \"a greeting has 1 to 40 characters\";\n  for (let i = 0; i < g.length; i++) {\n    const c = g.charCodeAt(i);\n    if (c < 32 || c > 126 || c == 34 || c == 92 || c == 37 || c == 36) return \"a greeting is printable ASCII without \\\" \\\\ % or the dollar sign\";\n  }\n  if (g == GREETING) return \"the agent already greets with \" + g;\n  return null;\n}\n\n/** `sha256:<hex>` text of a 32-byte hash field of a receipt payload, or null. */\nfunction refOf(payload: Cbor, field: string): string | null {\n  const v = payload.get(field);\n  if (v === null || v.kind != Kind.Bytes) return null;\n  let s = \"sha256:\";\n  for (let i = 0; i < v.bytes.length; i++) s += HEX.charAt(v.bytes[i] >> 4) + HEX.charAt(v.bytes[i] & 15);\n  return s;\n}\n\n/** One line describing a failed receipt: `<kind> <status>: <code>: <message or reason>`. */\nfunction failure(kind: string, status: string, payload: Cbor): string {\n  let s = kind + \" \" + status;\n  const code = payload.get(\"code\");\n  if (code !== null && code.kind == Kind.Text) s += \": \" + code.text;\n  let why = payload.get(\"message\");\n  if (why === null) why = payload.get(\"reason\");\n  if (why !== null && why.kind == Kind.Text) s += \": \" + why.text;\n  return s;\n}\n\nfunction onUpgrade(s: S, greeting: string, r: StepResult): void {\n  if (s.phase == \"storing\" || s.phase == \"compiling\" || s.phase == \"proposing\") {\n    s.errors.push(\"upgrade to \" + greeting + \" refused: an upgrade is in flight (\" + s.phase + \")\");\n    return;\n  }\n  const why = refusal(greeting);\n  if (why !== null) {\n    s.errors.push(\"upgrade to \" + greeting + \" refused: \" + why);\n    return;\n  }\n  s.wanted = greeting;\n  s.source_ref = null;\n  s.wasm_ref = null;\n  s.proposal_id = null;\n  s.phase = \"storing\";\n  const source = Uint8Array.wrap(String.UTF8.encode(render(greeting)));\n  r.effect(new Effect(\"blob.put\", Cbor.map().set(\"namespace\", Cbor.text(\"agent-src\")).set(\"bytes\", Cbor.bytesOf(source)), \"store\"));\n}\n\nfunction onReceipt(s: S, receipt: Cbor, ctx: Ctx, r: StepResult): void {\n  const kind = receipt.get(\"effect_kind\")!.asText();\n  const status = receipt.get(\"status\")!.asText();\n  const payload = Cbor.decode(receipt.get(\"payload\")!.asBytes());\n  if (status != \"ok\") {\n    s.errors.push(failure(kind, status, payload));\n    s.phase = \"failed\";\n    return;\n  }\n  if (kind == \"blob.put\" && s.phase == \"storing\") {\n    s.source_ref = refOf(payload, \"blob_ref\");\n    s.phase = \"compiling\";\n    const params = Cbor.map().set(\"language\", Cbor.text(\"assemblyscript\")).set(\"source_ref\", payload.get(\"blob_ref\")!);\n    r.effect(new Effect(\"compile.module\", params, \"build\"));\n  } else if (kind == \"compile.module\" && s.phase == \"compiling\") {\n    s.wasm_ref = refOf(payload, \"wasm_ref\");\n    s.phase = \"proposing\";\n    const params = Cbor.map()\n      .set(\"module\", Cbor.text(ctx.module)).set(\"wasm_ref\", payload.get(\"wasm_ref\")!)\n      .set(\"base_manifest_hash\", Cbor.text(ctx.manifestHash))\n      .set(\"description\", Cbor.text(ctx.module + \": greet with \" + s.wanted! + \" instead of \" + GREETING));\n    r.effect(new Effect(\"governance.upgrade\", params, \"gov\"));\n  } else if (kind == \"governance.upgrade\" && s.phase == \"proposing\") {\n    s.proposal_id = payload.get(\"proposal_id\")!.asText();\n    s.phase = \"proposed\";\n  } else {\n    s.errors.push(\"unexpected \" + kind + \" receipt in phase \" + s.phase);\n  }\n}\n\nfunction agent(state: Cbor | null, event: Event, ctx: Ctx): StepResult {\n  const s = state === null ? new S() : S.from(state);\n  const r = new StepResult(Cbor.nil());\n  if (event.schema == RECEIPT) onReceipt(s, event.value, ctx, r);\n  else if (event.schema == \"demo/UpgradeRequest@1\") onUpgrade(s, event.value.get(\"greeting\")!.asText(), r);\n  else {\n    s.greeted += 1;\n    s.last = GREETING + \", \" + event.value.get(\"name\")!.asText() + \"!\";\n  }\n  r.state = s.toCbor();\n  return r;\n}\n\nexport function step(): i32 {\n  return runStep(agent);\n}\n";

const RECEIPT = "sys/EffectReceiptEnvelope@1";
const MARK_GREETING = "%%" + "GREETING%%";
const MARK_SOURCE = "%%" + "SOURCE%%";
const HEX = "0123456789abcdef";

/** The cell state (demo/AgentState@1); refs are `sha256:<hex>` text. */
class S {
  greeted: u64 = 0;
  last: string | null = null;
  phase: string = "idle";
  wanted: string | null = null;
  source_ref: string | null = null;
  wasm_ref: string | null = null;
  proposal_id: string | null = null;
  errors: Array<string> = [];

  static from(c: Cbor): S {
    const s = new S();
    s.greeted = c.get("greeted")!.asU64();
    s.last = c.get("last")!.asTextOrNull();
    s.phase = c.get("phase")!.asText();
    s.wanted = c.get("wanted")!.asTextOrNull();
    s.source_ref = c.get("source_ref")!.asTextOrNull();
    s.wasm_ref = c.get("wasm_ref")!.asTextOrNull();
    s.proposal_id = c.get("proposal_id")!.asTextOrNull();
    const errors = c.get("errors")!;
    for (let i = 0; i < errors.items.length; i++) s.errors.push(errors.items[i].asText());
    return s;
  }

  toCbor(): Cbor {
    const errors = Cbor.array();
    for (let i = 0; i < this.errors.length; i++) errors.push(Cbor.text(this.errors[i]));
    return Cbor.map()
      .set("greeted", Cbor.uint(this.greeted)).set("last", Cbor.textOrNull(this.last))
      .set("phase", Cbor.text(this.phase)).set("wanted", Cbor.textOrNull(this.wanted))
      .set("source_ref", Cbor.textOrNull(this.source_ref)).set("wasm_ref", Cbor.textOrNull(this.wasm_ref))
      .set("proposal_id", Cbor.textOrNull(this.proposal_id)).set("errors", errors);
  }
}

/** The text of an AssemblyScript string literal holding `s`. */
function quote(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("\"", "\\\"").replaceAll("\n", "\\n");
}

/** This module's source with `greeting` in place of GREETING. */
function render(greeting: string): string {
  return TEMPLATE.replace(MARK_GREETING, quote(greeting)).replace(MARK_SOURCE, quote(TEMPLATE));
}

/** Why `g` cannot be a greeting, or null: 1 to 40 printable ASCII characters, no quote, backslash, percent or dollar. */
function refusal(g: string): string | null {
  if (g.length == 0 || g.length > 40) return "a greeting has 1 to 40 characters";
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i);
    if (c < 32 || c > 126 || c == 34 || c == 92 || c == 37 || c == 36) return "a greeting is printable ASCII without \" \\ % or the dollar sign";
  }
  if (g == GREETING) return "the agent already greets with " + g;
  return null;
}

/** `sha256:<hex>` text of a 32-byte hash field of a receipt payload, or null. */
function refOf(payload: Cbor, field: string): string | null {
  const v = payload.get(field);
  if (v === null || v.kind != Kind.Bytes) return null;
  let s = "sha256:";
  for (let i = 0; i < v.bytes.length; i++) s += HEX.charAt(v.bytes[i] >> 4) + HEX.charAt(v.bytes[i] & 15);
  return s;
}

/** One line describing a failed receipt: `<kind> <status>: <code>: <message or reason>`. */
function failure(kind: string, status: string, payload: Cbor): string {
  let s = kind + " " + status;
  const code = payload.get("code");
  if (code !== null && code.kind == Kind.Text) s += ": " + code.text;
  let why = payload.get("message");
  if (why === null) why = payload.get("reason");
  if (why !== null && why.kind == Kind.Text) s += ": " + why.text;
  return s;
}

function onUpgrade(s: S, greeting: string, r: StepResult): void {
  if (s.phase == "storing" || s.phase == "compiling" || s.phase == "proposing") {
    s.errors.push("upgrade to " + greeting + " refused: an upgrade is in flight (" + s.phase + ")");
    return;
  }
  const why = refusal(greeting);
  if (why !== null) {
    s.errors.push("upgrade to " + greeting + " refused: " + why);
    return;
  }
  s.wanted = greeting;
  s.source_ref = null;
  s.wasm_ref = null;
  s.proposal_id = null;
  s.phase = "storing";
  const source = Uint8Array.wrap(String.UTF8.encode(render(greeting)));
  r.effect(new Effect("blob.put", Cbor.map().set("namespace", Cbor.text("agent-src")).set("bytes", Cbor.bytesOf(source)), "store"));
}

function onReceipt(s: S, receipt: Cbor, ctx: Ctx, r: StepResult): void {
  const kind = receipt.get("effect_kind")!.asText();
  const status = receipt.get("status")!.asText();
  const payload = Cbor.decode(receipt.get("payload")!.asBytes());
  if (status != "ok") {
    s.errors.push(failure(kind, status, payload));
    s.phase = "failed";
    return;
  }
  if (kind == "blob.put" && s.phase == "storing") {
    s.source_ref = refOf(payload, "blob_ref");
    s.phase = "compiling";
    const params = Cbor.map().set("language", Cbor.text("assemblyscript")).set("source_ref", payload.get("blob_ref")!);
    r.effect(new Effect("compile.module", params, "build"));
  } else if (kind == "compile.module" && s.phase == "compiling") {
    s.wasm_ref = refOf(payload, "wasm_ref");
    s.phase = "proposing";
    const params = Cbor.map()
      .set("module", Cbor.text(ctx.module)).set("wasm_ref", payload.get("wasm_ref")!)
      .set("base_manifest_hash", Cbor.text(ctx.manifestHash))
      .set("description", Cbor.text(ctx.module + ": greet with " + s.wanted! + " instead of " + GREETING));
    r.effect(new Effect("governance.upgrade", params, "gov"));
  } else if (kind == "governance.upgrade" && s.phase == "proposing") {
    s.proposal_id = payload.get("proposal_id")!.asText();
    s.phase = "proposed";
  } else {
    s.errors.push("unexpected " + kind + " receipt in phase " + s.phase);
  }
}

function agent(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const s = state === null ? new S() : S.from(state);
  const r = new StepResult(Cbor.nil());
  if (event.schema == RECEIPT) onReceipt(s, event.value, ctx, r);
  else if (event.schema == "demo/UpgradeRequest@1") onUpgrade(s, event.value.get("greeting")!.asText(), r);
  else {
    s.greeted += 1;
    s.last = GREETING + ", " + event.value.get("name")!.asText() + "!";
  }
  r.state = s.toCbor();
  return r;
}

export function step(): i32 {
  return runStep(agent);
}
