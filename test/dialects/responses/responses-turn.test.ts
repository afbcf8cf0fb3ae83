/**
 * Reading a conversation's items (newest first, as the relay lists them): the calls waiting at its tail, and
 * the output of the response that some outputs started.
 */
import { describe, expect, it } from "vitest";
import type { ConversationItem } from "../../../functions/submit-tool-outputs/dialects/responses/response-state";
import { itemsAfterOutputs, listTail, waitingCalls } from "../../../functions/submit-tool-outputs/dialects/responses/turn";
import { recordContext } from "../../helpers/factories";

const user = (id: string): ConversationItem => ({ type: "message", id, role: "user", content: [] });
const said = (id: string): ConversationItem => ({ type: "message", id, role: "assistant", content: [] });
const thought = (id: string): ConversationItem => ({ type: "reasoning", id, summary: [] });
const call = (callId: string): ConversationItem => ({
  type: "function_call",
  id: `fc_${callId}`,
  call_id: callId,
  name: "f",
  arguments: "{}",
});
const output = (callId: string): ConversationItem => ({ type: "function_call_output", id: `fco_${callId}`, call_id: callId, output: "1" });

/** Two rounds, oldest first, then listed newest first as the relay reads them. */
const chronological = [user("msg_q"), thought("rs_1"), call("a"), call("b"), output("a"), output("b"), said("msg_pre"), call("c")];
const newestFirst = [...chronological].reverse();

describe("waitingCalls: the calls of the conversation's last response that have no output yet", () => {
  it.each([
    ["the last response's calls", newestFirst, ["c"]],
    ["calls beside text and reasoning in the same output", [call("d"), thought("rs_2"), said("msg_x"), call("c"), output("b")], ["d", "c"]],
    ["none when the last response answered with text", [said("msg_end"), output("c"), ...newestFirst], []],
    ["none when the tail's calls were answered", [output("c"), ...newestFirst], []],
    ["none in an empty conversation", [], []],
    ["none when a user spoke last", [user("msg_again"), ...newestFirst], []],
  ])("%s", (_case, items, expected) => {
    expect(waitingCalls(items)).toEqual(expected);
  });
});

describe("itemsAfterOutputs: the output of the response that the given outputs started", () => {
  it("is undefined while any of the outputs is missing", () => {
    expect(itemsAfterOutputs(newestFirst, ["c"])).toBeUndefined();
    expect(itemsAfterOutputs([output("a"), call("b"), call("a")], ["a", "b"])).toBeUndefined();
  });

  it("is that response's output only, not later rounds' items", () => {
    // Round one's outputs (a, b) started the response that said msg_pre and called c.
    expect(itemsAfterOutputs(newestFirst, ["a", "b"])).toEqual([call("c"), said("msg_pre")]);
    expect(itemsAfterOutputs(newestFirst, ["b", "a"])).toEqual([call("c"), said("msg_pre")]);
    const later = [said("msg_end"), output("c"), ...newestFirst];
    expect(itemsAfterOutputs(later, ["a", "b"])).toEqual([call("c"), said("msg_pre")]);
    expect(itemsAfterOutputs(later, ["c"])).toEqual([said("msg_end")]);
  });

  it("skips the rest of the same response's input (a message sent beside the outputs)", () => {
    const items = [said("msg_answer"), user("msg_extra"), output("c"), ...newestFirst];
    expect(itemsAfterOutputs(items, ["c"])).toEqual([said("msg_answer")]);
  });
});

describe("listTail: pages through the conversation only until the tail's calls and what came before them show", () => {
  it("stops after the page that reaches past the given calls", async () => {
    // Prepare: pages of two items each, newest first; the given call is on the second page.
    const pages = [
      [call("x"), call("y")],
      [call("c"), user("msg_q")],
      [said("old"), user("older")],
    ];
    const asked: number[] = [];
    const endpoint = {
      getResponse: async () => ({ ok: false as const, failure: { kind: "not_found" as const, httpStatus: 404 } }),
      listConversationItems: async (_id: string, _call: unknown, until: (items: ConversationItem[]) => boolean) => {
        const items: ConversationItem[] = [];
        for (const page of pages) {
          asked.push(items.length);
          items.push(...page);
          if (until(items)) break;
        }
        return { ok: true as const, items };
      },
    };
    const limits = { maxAttempts: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 1, followBudgetMs: 1, pollIntervalMs: 1 };
    // Act
    const listed = await listTail({ endpoint, ...limits }, "conv_1", ["c"], recordContext());
    // Assess
    expect(listed.ok && listed.items.map((item) => item.id)).toEqual(["fc_x", "fc_y", "fc_c", "msg_q"]);
    expect(asked).toEqual([0, 2]);
  });
});
