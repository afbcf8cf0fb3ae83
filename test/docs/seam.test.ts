/**
 * The seam between the shared pipeline and the APIs (dialects/index.ts): a new API is a folder and a registry line, so
 * no file of the function outside dialects/ may name an API's id field, and the function's root holds only its entry
 * and wiring.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ID_FIELDS } from "../../functions/submit-tool-outputs/dialects/index";

const FUNCTION = fileURLToPath(new URL("../../functions/submit-tool-outputs/", import.meta.url));

/** Every API's id fields, today's and those the next APIs bring (the Agents API's session and turn). */
const API_ID_FIELDS = [
  ...new Set([...ID_FIELDS, "thread_id", "run_id", "response_id", "previous_response_id", "conversation_id", "session_id", "turn_id"]),
];

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Where a file names an id field (code, strings or comments), as `file:line field`. */
function namings(file: string): string[] {
  const lines = readFileSync(file, "utf8").split("\n");
  return lines.flatMap((line, i) =>
    API_ID_FIELDS.filter((field) => new RegExp(`\\b${field}\\b`).test(line)).map(
      (field) => `${relative(FUNCTION, file)}:${i + 1} ${field}`,
    ),
  );
}

describe("the seam", () => {
  it("knows every API's id fields from the registry", () => {
    expect(ID_FIELDS.length).toBeGreaterThanOrEqual(4);
  });

  it("no file of the function outside dialects/ names an API's id field", () => {
    const shared = filesUnder(FUNCTION).filter((file) => !relative(FUNCTION, file).startsWith("dialects/"));
    expect(shared.length).toBeGreaterThan(20);
    expect(shared.flatMap(namings)).toEqual([]);
  });

  it("catches a naming when there is one (the check itself works)", () => {
    const inDialects = filesUnder(join(FUNCTION, "dialects")).flatMap(namings);
    expect(inDialects.length).toBeGreaterThan(0);
  });

  it("holds at most 3 files in the function's root (the entry and its wiring)", () => {
    const root = readdirSync(FUNCTION).filter((name) => statSync(join(FUNCTION, name)).isFile());
    expect(root.length).toBeLessThanOrEqual(3);
  });
});
