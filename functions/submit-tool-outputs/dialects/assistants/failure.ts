import type { EndpointError, HttpFailure } from "../../endpoint/endpoint-failure";

/** Why an Assistants-API call did not give the relay a run: HTTP's reasons, and two the endpoint's message names. */
export type AssistantsFailure =
  | HttpFailure
  /** 400 `Runs in status "…" do not accept tool outputs.` */
  | { kind: "not_accepting"; httpStatus: number; error?: EndpointError }
  /** 400 `Expected tool outputs for call_ids [...], got [...]` */
  | { kind: "tool_call_mismatch"; httpStatus: number; error?: EndpointError; expectedIds: string[]; givenIds: string[] };

const NOT_ACCEPTING = /do not accept tool outputs/i;
const MISMATCH = /Expected tool outputs for call_ids\s*\[(.*?)\],\s*got\s*\[(.*?)\]/i;

/**
 * Sorts a refused call into the rows of the Assistants outcome table (docs/contract.md): a `rejected` answer
 * whose message says the run takes no outputs now, or other ids, gets its own kind.
 * @example classifyAssistantsFailure(classifyHttpFailure(400, body, headers)).kind === "tool_call_mismatch"
 */
export function classifyAssistantsFailure(failure: HttpFailure): AssistantsFailure {
  if (failure.kind !== "rejected") return failure;
  const message = failure.error?.message ?? "";
  if (NOT_ACCEPTING.test(message)) return { ...failure, kind: "not_accepting" };
  const mismatch = MISMATCH.exec(message);
  if (mismatch) return { ...failure, kind: "tool_call_mismatch", expectedIds: quotedIds(mismatch[1]), givenIds: quotedIds(mismatch[2]) };
  return failure;
}

function quotedIds(list: string | undefined): string[] {
  return [...(list ?? "").matchAll(/['"]([^'"]*)['"]/g)].map((m) => m[1] ?? "");
}
