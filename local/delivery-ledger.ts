import type { PublishedResult } from "../functions/submit-tool-outputs/dialects/index";
import type { DeadLetter } from "../functions/submit-tool-outputs/out/dlq-record";
import type { InvocationReport } from "./event-source-poller";

/** Where a sent message ended. */
export interface Accounting {
  /** Acknowledged by the relay (deleted after a successful invocation) and not dead-lettered. */
  accepted: string[];
  /** In the DLQ, with the reason written on it (`redriven_by_sqs` for a raw message moved by SQS's redrive). */
  deadLettered: Array<{ messageId: string; reason: string }>;
  /** Neither: still on its way, or lost. After the stack has settled this must be empty. */
  pending: string[];
}

/**
 * What became of every message: the poller reports what it deleted, the readers add what reached the
 * results topic and the DLQ. The ledger never reads a queue itself.
 * @example const ledger = new DeliveryLedger(); poller options: { onInvocation: (r) => ledger.record(r) }
 */
export class DeliveryLedger {
  readonly acknowledged = new Set<string>();
  readonly results: PublishedResult[] = [];
  readonly deadLetters: DeadLetter[] = [];
  private readonly deadLetterBySource = new Map<string, DeadLetter>();

  record(report: InvocationReport): void {
    for (const id of report.deleted) this.acknowledged.add(id);
  }

  addResults(results: PublishedResult[]): void {
    this.results.push(...results);
  }

  addDeadLetters(letters: DeadLetter[]): void {
    this.deadLetters.push(...letters);
    for (const letter of letters) this.deadLetterBySource.set(letter.sourceMessageId, letter);
  }

  /** Results events caused by one input message. */
  resultsOf(messageId: string): PublishedResult[] {
    return this.results.filter((r) => r.event.source_message_id === messageId);
  }

  deadLetterOf(messageId: string): DeadLetter | undefined {
    return this.deadLetterBySource.get(messageId);
  }

  account(messageIds: Iterable<string>): Accounting {
    const accounting: Accounting = { accepted: [], deadLettered: [], pending: [] };
    for (const id of messageIds) {
      const letter = this.deadLetterBySource.get(id);
      if (letter) accounting.deadLettered.push({ messageId: id, reason: letter.reason });
      else if (this.acknowledged.has(id)) accounting.accepted.push(id);
      else accounting.pending.push(id);
    }
    return accounting;
  }
}
