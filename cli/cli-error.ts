/** An error the CLI explains to its user: what went wrong and what to do. `exitCode` 2 is a usage error. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A usage error (wrong or missing flags, an invalid message): nothing was done. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/**
 * Turns an AWS SDK error into advice. Connection failures against a local endpoint mean the local stack
 * is not running; missing credentials and unknown queues have their own fixes.
 */
export function explainAwsError(error: unknown, where: { endpoint?: string; what: string }): CliError {
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  const name = e.name ?? "";
  const code = e.code ?? e.cause?.code ?? "";
  if (code === "ECONNREFUSED" || name === "ECONNREFUSED" || /ECONNREFUSED/.test(e.message ?? "")) {
    return new CliError(
      where.endpoint
        ? `nothing answers at AWS_ENDPOINT_URL=${where.endpoint} (${where.what}). Is \`npm start -- --serve\` running? Paste the env lines it printed.`
        : `could not connect to AWS (${where.what}): check your network and AWS_REGION.`,
    );
  }
  if (name === "CredentialsProviderError" || /credential/i.test(e.message ?? "")) {
    return new CliError(
      `no AWS credentials (${where.what}). Use your usual AWS profile (AWS_PROFILE, aws sso login), or for the local stack export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local.`,
    );
  }
  if (
    name === "QueueDoesNotExist" ||
    name === "AWS.SimpleQueueService.NonExistentQueue" ||
    /NonExistentQueue|does not exist/i.test(`${name} ${e.message}`)
  ) {
    return new CliError(
      `queue not found (${where.what}): check the URL and the region (AWS_REGION), or read them from the stack with --stack.`,
    );
  }
  if (name === "AccessDenied" || name === "AccessDeniedException" || name === "AuthorizationError") {
    return new CliError(
      `access denied (${where.what}): your AWS identity needs the SQS/SNS permissions for this queue or topic. AWS said: ${e.message}`,
    );
  }
  return new CliError(`${where.what} failed: ${name ? `${name}: ` : ""}${e.message ?? String(error)}`);
}
