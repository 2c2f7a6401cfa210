/**
 * @module The MCP agent (worlds/mcp-agent, agent/Researcher@1, keyed by `key`): a question
 * `agent/Ask@1 {key, server, question}` becomes one `mcp.call` of the server's `lookup` tool
 * (slot `tools`) with `{query: question}`; the tool's first text content becomes the cell's
 * answer. The grant decides which servers and tools it may call; a denial, an error or a
 * timeout is recorded, never trapped on. The step records why it asked as its annotation.
 */
import { Cbor, Ctx, Effect, Event, Kind, StepResult, runStep } from "../sdk/index";
import { receiptFailure } from "../sdk/receipt";

const RECEIPT = "sys/EffectReceiptEnvelope@1";

function state(question: string, server: string, status: string, answer: Cbor, error: Cbor, asked: u64): Cbor {
  return Cbor.map()
    .set("question", Cbor.text(question)).set("server", Cbor.text(server)).set("status", Cbor.text(status))
    .set("answer", answer).set("error", error).set("asked", Cbor.uint(asked));
}

/** The first text item of a CallToolResult's `content`, or null. */
function firstText(result: Cbor): string | null {
  const content = result.get("content");
  if (content === null || content.kind != Kind.Array) return null;
  for (let i = 0; i < content.items.length; i++) {
    const item = content.items[i];
    const type = item.get("type");
    const text = item.get("text");
    if (type !== null && type.kind == Kind.Text && type.text == "text" && text !== null && text.kind == Kind.Text) return text.text;
  }
  return null;
}


function researcher(prev: Cbor | null, event: Event, ctx: Ctx): StepResult {
  if (event.schema != RECEIPT) {
    const question = event.value.get("question")!.asText();
    const server = event.value.get("server")!.asText();
    const asked: u64 = prev === null ? 1 : prev.get("asked")!.asU64() + 1;
    const args = Cbor.map().set("query", Cbor.text(question));
    const params = Cbor.map()
      .set("server", Cbor.text(server)).set("tool", Cbor.text("lookup"))
      .set("arguments", Cbor.bytesOf(args.encode())).set("headers", Cbor.nil());
    const r = new StepResult(state(question, server, "asking", Cbor.nil(), Cbor.nil(), asked));
    r.effect(new Effect("mcp.call", params, "tools"));
    r.ann = Cbor.map().set("trigger", Cbor.text(event.schema))
      .set("decision", Cbor.text("look up \"" + question + "\" with the lookup tool of " + server));
    return r;
  }
  if (prev === null) return new StepResult(Cbor.nil());
  const question = prev.get("question")!.asText();
  const server = prev.get("server")!.asText();
  const asked = prev.get("asked")!.asU64();
  const status = event.value.get("status")!.asText();
  const payload = Cbor.decode(event.value.get("payload")!.asBytes());
  if (status != "ok") return new StepResult(state(question, server, status, Cbor.nil(), Cbor.text(receiptFailure("", status, payload)), asked));
  const inline = payload.get("result");
  if (inline === null || inline.kind != Kind.Bytes) {
    // A result over 4 KiB sits in the CAS (result_ref); this agent keeps only short answers.
    return new StepResult(state(question, server, "too_long", Cbor.nil(), Cbor.text("the answer was stored by reference"), asked));
  }
  const text = firstText(Cbor.decode(inline.bytes));
  return new StepResult(state(question, server, text === null ? "no_text" : "answered", Cbor.textOrNull(text), Cbor.nil(), asked));
}

export function step(): i32 {
  return runStep(researcher);
}
