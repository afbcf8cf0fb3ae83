/**
 * Runs AWS CloudFormation Guard with the Control Tower proactive-control rule sets that ship inside
 * @cdklabs/cdk-validator-cfnguard (its binary and its rules) over synthesized templates, and reads the findings
 * from Guard's structured JSON. The plugin's own report is not used: it loses the resource of some findings.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { dirname, join } from "node:path";

const PACKAGE = dirname(createRequire(import.meta.url).resolve("@cdklabs/cdk-validator-cfnguard/package.json"));

/** Guard's release names: ubuntu builds serve every Linux. */
const GUARD = join(PACKAGE, "bin", platform() === "darwin" ? "macos" : "ubuntu", arch() === "arm64" ? "aarch64" : "x86_64", "cfn-guard");

/** The Control Tower proactive controls, one .guard file per control (ct-<service>-pr-<n>.guard). */
export const CONTROL_TOWER_RULES = join(PACKAGE, "rules", "control-tower", "cfn-guard");

export interface GuardFinding {
  /** The Control Tower control, e.g. `CT.LAMBDA.PR.3`. */
  control: string;
  /** Guard's rule name, e.g. `lambda_inside_vpc_check`. */
  rule: string;
  /** The template's name as passed in. */
  template: string;
  /** Logical id of the resource at fault. */
  resource: string;
  resourceType: string;
}

/**
 * Every (control, resource) that fails, over all the templates. Guard exits 19 when something fails; any other
 * non-zero exit is an error of its own and is thrown.
 * @example const findings = runControlTowerRules({ defaults: template });
 */
export function runControlTowerRules(templates: Record<string, { Resources: Record<string, { Type: string }> }>): GuardFinding[] {
  const directory = mkdtempSync(join(tmpdir(), "cfn-guard-"));
  try {
    for (const [name, template] of Object.entries(templates)) writeFileSync(join(directory, `${name}.json`), JSON.stringify(template));
    const run = spawnSync(
      GUARD,
      [
        "validate",
        "--rules",
        CONTROL_TOWER_RULES,
        "--data",
        directory,
        "--output-format",
        "json",
        "--show-summary",
        "none",
        "--structured",
      ],
      { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
    );
    if (run.status !== 0 && run.status !== 19) throw new Error(`cfn-guard exited ${run.status}: ${run.stderr}`);
    const reports = JSON.parse(run.stdout) as Array<{ name: string; not_compliant?: Array<{ Rule?: { name: string } }> }>;
    const findings = new Map<string, GuardFinding>();
    for (const report of reports) {
      const template = report.name.slice(directory.length + 1).replace(/\.json$/, "");
      for (const failure of report.not_compliant ?? []) {
        const text = JSON.stringify(failure);
        const control = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(text)?.[1] ?? "unknown";
        for (const [, resource] of text.matchAll(/"path":"\/Resources\/([^/"]+)/g)) {
          const finding = {
            control,
            rule: failure.Rule?.name ?? "unknown",
            template,
            resource: resource!,
            resourceType: templates[template]!.Resources[resource!]?.Type ?? "unknown",
          };
          findings.set(JSON.stringify(finding), finding);
        }
      }
    }
    return [...findings.values()];
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
