/**
 * Errors the relay raises itself. Each names its origin so a log line tells who threw,
 * and carries the data a caller needs, never a secret or a tool output.
 */
export class RelayError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The function's environment is wrong: raised at cold start, naming the variable. */
export class ConfigurationError extends RelayError {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/**
 * The endpoint credentials could not be read (missing, unreadable secret, wrong JSON keys), or no per-request
 * credentials could be had (a token endpoint refused or is down): `details` says which, for the endpoint call.
 */
export class CredentialsError extends RelayError {
  readonly details: { httpStatus?: number; transient?: boolean };

  constructor(message: string, options?: ErrorOptions & { details?: { httpStatus?: number; transient?: boolean } }) {
    super(message, options);
    this.details = options?.details ?? {};
  }
}

/** The state table or the payload bucket did not answer (throttled, unreachable, refused): the message is tried again later. */
export class StateUnavailableError extends RelayError {
  constructor(
    readonly operation: string,
    options?: ErrorOptions,
  ) {
    super(`the relay's state could not be read or written (${operation}: ${errorName(options?.cause)})`, options);
  }
}

/**
 * The name of whatever was thrown ("Error" when it has none): the relay's texts name an error's kind, never its
 * message, which may hold data.
 * @example errorName(new TypeError("x")) // "TypeError"
 */
export function errorName(thrown: unknown): string {
  const name = fieldOf(thrown, "name");
  return typeof name === "string" ? name : "Error";
}

/** A network error's code (`ECONNREFUSED`, `ETIMEDOUT`…): Node's http puts it on the error, fetch on its `cause`. */
export function causeCode(thrown: unknown): unknown {
  return fieldOf(thrown, "code") ?? fieldOf(fieldOf(thrown, "cause"), "code");
}

function fieldOf(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, key) : undefined;
}
