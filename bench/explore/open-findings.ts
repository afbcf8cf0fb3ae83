/**
 * Seeds of the short run (seeds 1–1000, test/explore/explore.test.ts) that still break the promise on this branch's
 * code, each with what breaks and the DESIGN Part 3 rule it breaks: open findings, reported, not yet fixed. The
 * test fails on any violating seed not listed here; when a fix lands, its seeds come off the list.
 */
export const OPEN_FINDINGS: Readonly<Record<number, string>> = {};

/**
 * Seeds that once broke the promise and were fixed, each with the mechanism: pinned, so that the test replays them
 * and fails if one breaks again. (A fix changes the relay's calls, so a seed's schedule may drift with later code;
 * each fix also has its own test through the handler where the break is observable from outside.)
 */
export const FIXED_SEEDS: Readonly<Record<number, string>> = {
  61247:
    "a part delivered twice: one copy opened the set and another's submitter reported it, while the other copy, finding the " +
    "run moved on, dead-lettered the part collect_incomplete (the collection is now read again first)",
  75514: "the same race as 61247 (a twice-delivered part dead-lettered collect_incomplete beside its set's event)",
  4232: "the first check's three receives died (its guard now takes the chain over)",
  393: "a duplicate delivery of a plain Responses message's last receive found the claim held by the other delivery",
  645: "a collected part's last receive lost a table write's answer while its round's event named it",
  730: "a check's pass-on was refused, then its last receive died: the chain was lost (now passed on first, and guarded)",
  856: "a plain message's last receive lost the answer of a publish that landed (dead-lettered results_unpublished)",
  1370: "the set's submitter, its own event published, failed on its last receive",
  1801: "the submitter, its event published but the round not marked named, lost a table answer on its last receive",
  1708: "two deliveries of the completing message both claimed the set; the submitter's finish was refused and the round stayed open",
  2081: "the round's check dead-lettered parts on its last receive though the submitter's event, published, named them",
  2851: "a check's last receive died in its look, losing the chain",
  3869: "a check's last receive died in its look, losing the chain",
  7866: "two deliveries of the completing message: the one that lost the claim was acknowledged on the other's behalf, which died before publishing",
  14903: "a plain Responses message's last receive had its claim write throttled after an earlier receive's publish landed",
  6194: "a check whose close was refused (the set claimed meanwhile) ended the chain with the round still open",
  65120:
    "two deliveries of the completing message of a Responses set: the second took the set again and reported it; the first, " +
    "finding the turn answered, lost its close and dead-lettered the message anyway (a refused close now follows the round)",
  58335: "the same race as 65120 (the first attempt of a twice-delivered completing message dead-lettered it beside the event)",
  92585: "the same race as 65120",
  1058:
    "two deliveries of a set's completing message: the one on its last receive, its close refused, was acknowledged because " +
    "its round held it; the other submitted the set and died before marking the round; the round's timeout check closed " +
    "the complete set as collect_incomplete (the check now asks the turn first; the round tells the kept message's fate)",
  236: "a complete set's submitter died after the endpoint took the set: its round's timeout check closed it collect_incomplete",
  1069: "as 1058, but the dying delivery's POST went unrecorded: now every part submission_unconfirmed, not collect_incomplete",
  1873: "a complete Responses set whose submitter's POST landed unrecorded was closed collect_incomplete by its timeout check",
  14910:
    "not the relay's: a part's DLQ record, redriven twice by the operator, was reported once and moved raw by SQS once (its " +
    "invocations died); the check read the raw move as the relay's record because the body is one (now the queue says who moved it)",
  31482:
    "the completing message delivered three times: its last receive lost a table answer while another delivery held the set's " +
    "claim, and was acknowledged as told by its round; that delivery died before its own DLQ record (the claim's holder is now never kept)",
  73725:
    "a check's on-time look failed (a DLQ write's answer lost) and came back in 10 s, not overdue, so it looked again instead of " +
    "passing the chain on; two deaths of it and three of its guard lost the chain with a closed round's DLQ records unwritten",
  49966:
    "the submitter's event named the set, its `named` write was refused; the check's publishes refused as often as a message " +
    "has receives, it dead-lettered a part results_unpublished beside that event (a publish is now counted begun first)",
  34287:
    "the submitter's event landed and it died; its redelivery's and a check's publishes landed with their answers lost, counted " +
    "as failed: every part dead-lettered results_unpublished beside three events (a publish of unknown fate is never a refusal)",
};
