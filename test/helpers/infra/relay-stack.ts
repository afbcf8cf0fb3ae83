import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Environment } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { createRelayApp } from "../../../infra/app";

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
export const CDK_JSON = JSON.parse(readFileSync(new URL("../../../cdk.json", import.meta.url), "utf8")) as {
  app: string;
  context: Record<string, unknown>;
};

/** A two-line handler: template tests skip bundling, so the function's code does not matter to them. */
export const STAND_IN_HANDLER = fileURLToPath(new URL("./fixtures/stand-in-handler.ts", import.meta.url));

/** Context options used across tests. */
export const IMPORTED_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey-AbCdEf";
export const SECRET_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/**
 * The relay app for these context options, as `cdk synth` builds it (cdk.json flags, cdk-nag on).
 * For speed, bundling and CDK's built-in CloudFormation schema check (5 s on first use) are skipped
 * unless `asCliSynth` is set. `env` pins the stack's account and region (the app's default is agnostic).
 */
export function relayApp(
  context: Record<string, unknown> = {},
  { asCliSynth = false, env }: { asCliSynth?: boolean; env?: Environment } = {},
) {
  return createRelayApp({
    context: { ...CDK_JSON.context, ...(asCliSynth ? {} : { "aws:cdk:bundling-stacks": [] }), ...context },
    builtinCloudFormationValidation: asCliSynth,
    handlerEntry: asCliSynth ? undefined : STAND_IN_HANDLER,
    env,
  });
}

const templates = new Map<string, Template>();

/** The stack's template for these context options (synthesized once per distinct context). */
export function relayTemplate(context: Record<string, unknown> = {}): Template {
  const key = JSON.stringify(context);
  let template = templates.get(key);
  if (!template) {
    template = Template.fromStack(relayApp(context).stack);
    templates.set(key, template);
  }
  return template;
}

export interface PolicyStatement {
  Effect: string;
  /** Sorted, and always a list: the template's order and shape depend on policy minimization. */
  Action: string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the identity policies (AWS::IAM::Policy) in the template. */
export function identityStatements(template: Template): PolicyStatement[] {
  return Object.values(template.findResources("AWS::IAM::Policy")).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Array<PolicyStatement & { Action: string | string[] }>).map((statement) => ({
      ...statement,
      Action: [statement.Action].flat().sort(),
    })),
  );
}

/** The statements that allow `action`. */
export function statementsAllowing(template: Template, action: string): PolicyStatement[] {
  return identityStatements(template).filter((statement) => statement.Action.includes(action));
}

/** The only resource of `type` in the template, with its logical id. */
export function onlyResource(template: Template, type: string): { id: string; Properties: Record<string, any> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, Properties: resource.Properties ?? {} };
}
