import { createHandler } from "./create-handler";

/** The SQS-triggered Lambda: docs/contract.md has the message contract, docs/configuration.md its variables. */
export const handler = createHandler(process.env);
