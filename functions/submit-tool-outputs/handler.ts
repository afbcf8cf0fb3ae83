import { createHandler } from "./create-handler";

/** The SQS-triggered Lambda: see README.md for the message contract and configuration. */
export const handler = createHandler(process.env);
