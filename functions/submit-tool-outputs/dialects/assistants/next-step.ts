import type { Outcome } from "../../pipeline/outcome";
import type { AssistantsFailure } from "./failure";

/**
 * What the Assistants outcome table (docs/contract.md) says to do next, after a look at the run or a
 * submission. decide.ts runs these steps until one settles.
 */
export type NextStep =
  /** A row that ends the decision: its outcome is settled (published, dead-lettered, handed back). */
  | { kind: "settle"; outcome: Outcome }
  /** "still waiting for these call ids → submit (again)". */
  | { kind: "submit" }
  /** "GET the run before anything else" (a redelivery, or after a refusal that may hide an acceptance). */
  | { kind: "look" }
  /** A submission failed: try again, after a backoff or at once, looking at the run first or not. */
  | { kind: "again"; failure: AssistantsFailure; backoff: boolean; look: boolean };

export const settleWith = (outcome: Outcome): NextStep => ({ kind: "settle", outcome });
