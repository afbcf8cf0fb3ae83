/**
 * Evaluates AWS calls against the function role's policies, as synthesized, with a real IAM policy evaluator
 * (@cloud-copilot/iam-simulate): identity policies, plus the resource's own policy (queue, topic, key, bucket)
 * where the template gives it one. Reports which statement, action and resource of the role each call used, so
 * that a test can require every grant to be needed.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { SimulatedEnvironment, TemplateResolver } from "./template-resolver";

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

export interface AwsCall {
  action: string;
  resource: string;
  /** Service-specific condition keys the request carries (kms:ViaService for a call made through SNS, …). */
  context?: Record<string, string>;
}

/** One statement of the role's identity policies, resolved, with an id naming where it comes from. */
export interface RoleStatement {
  id: string;
  statement: { Effect: string; Action: string[]; Resource: string[]; Condition?: unknown };
}

/** A grant of the role: one action pattern on one resource pattern of one statement. */
export type Grant = `${string} | ${string} | ${string}`;

export interface Evaluation {
  call: AwsCall;
  decision: string;
  /** The grants that allowed the call. */
  used: Grant[];
}

const grant = (id: string, action: string, resource: string): Grant => `${id} | ${action} | ${resource}`;
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [String(value)]);

/**
 * The role's identity statements (its AWS::IAM::Policy resources and inline policies), resolved to local ARNs.
 * Managed policies are refused: their statements are not in the template.
 */
export function roleStatements(template: Template, resolver: TemplateResolver, roleId: string): RoleStatement[] {
  const role = template.Resources[roleId]!;
  if (role.Properties?.ManagedPolicyArns) throw new Error(`${roleId} has managed policies, which this evaluation cannot read`);
  const documents: Array<[string, { Statement: unknown[] }]> = [
    ...((role.Properties?.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: { Statement: unknown[] } }>).map(
      (policy) => [`${roleId}/${policy.PolicyName}`, policy.PolicyDocument] as [string, { Statement: unknown[] }],
    ),
    ...Object.entries(template.Resources)
      .filter(
        ([, resource]) =>
          resource.Type === "AWS::IAM::Policy" && JSON.stringify(resource.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]),
      )
      .map(([id, resource]) => [id, resource.Properties!.PolicyDocument] as [string, { Statement: unknown[] }]),
  ];
  return documents.flatMap(([id, document]) =>
    document.Statement.map((raw, index) => {
      const statement = resolver.resolve(raw) as Record<string, unknown>;
      return {
        id: `${id}#${index}`,
        statement: {
          Effect: String(statement.Effect),
          Action: list(statement.Action),
          Resource: list(statement.Resource),
          ...(statement.Condition ? { Condition: statement.Condition } : {}),
        },
      };
    }),
  );
}

/** Every grant of the role. */
export function grantsOf(statements: RoleStatement[]): Grant[] {
  return statements.flatMap(({ id, statement }) =>
    statement.Action.flatMap((action) => statement.Resource.map((resource) => grant(id, action, resource))),
  );
}

/** The resource policies of the template (queue, topic, key and bucket policies), by the ARNs they guard. */
function resourcePolicies(template: Template, resolver: TemplateResolver, physicalArnOf: (id: string) => string) {
  const guarded: Array<{ covers: (arn: string) => boolean; policy: unknown }> = [];
  const refIds = (refs: unknown) => ((refs ?? []) as Array<{ Ref?: string }>).flatMap((ref) => (ref.Ref ? [ref.Ref] : []));
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    const arns = (() => {
      switch (resource.Type) {
        case "AWS::SQS::QueuePolicy":
          return refIds(p.Queues).map(physicalArnOf);
        case "AWS::SNS::TopicPolicy":
          return list(resolver.resolve(p.Topics));
        case "AWS::S3::BucketPolicy":
          return [`arn:aws:s3:::${resolver.resolve(p.Bucket)}`];
        case "AWS::KMS::Key":
          return [physicalArnOf(id)];
        default:
          return [];
      }
    })();
    const document = resource.Type === "AWS::KMS::Key" ? p.KeyPolicy : p.PolicyDocument;
    for (const arn of arns)
      guarded.push({ covers: (target) => target === arn || target.startsWith(`${arn}/`), policy: resolver.resolve(document) });
  }
  return (arn: string) => guarded.find((entry) => entry.covers(arn))?.policy;
}

export interface RoleEvaluator {
  statements: RoleStatement[];
  evaluate(call: AwsCall): Promise<Evaluation>;
}

/**
 * An evaluator for calls made with the role's credentials (a Lambda session of the role).
 * @example const evaluator = roleEvaluator(template, resolver, environment, "RelayRole3A6B1A2B", (id) => physical[id].attributes.Arn);
 */
export function roleEvaluator(
  template: Template,
  resolver: TemplateResolver,
  environment: SimulatedEnvironment,
  roleId: string,
  physicalArnOf: (id: string) => string,
  /** Policies of resources outside the template (an imported key), by ARN. */
  outsidePolicies: Record<string, unknown> = {},
): RoleEvaluator {
  const statements = roleStatements(template, resolver, roleId);
  const ownPolicyOf = resourcePolicies(template, resolver, physicalArnOf);
  const resourcePolicyOf = (arn: string) => outsidePolicies[arn] ?? ownPolicyOf(arn);
  const roleArn = physicalArnOf(roleId);
  const principal = `arn:${environment.partition}:sts::${environment.account}:assumed-role/${roleArn.split("/").pop()}/relay`;
  return {
    statements,
    async evaluate(call) {
      const result = await runSimulation(
        {
          request: {
            principal,
            action: call.action,
            resource: { resource: call.resource, accountId: environment.account },
            contextVariables: {
              "aws:SecureTransport": "true",
              "aws:PrincipalAccount": environment.account,
              "aws:PrincipalArn": roleArn,
              "aws:RequestedRegion": environment.region,
              ...(call.action.startsWith("s3:") ? { "s3:TlsVersion": "1.3" } : {}),
              ...call.context,
            },
          },
          // One policy per statement, so the evaluator's explanation names the statement that allowed the call.
          identityPolicies: statements.map(({ id, statement }) => ({
            name: id,
            policy: { Version: "2012-10-17", Statement: [statement] },
          })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: resourcePolicyOf(call.resource),
        },
        {},
      );
      if (result.resultType === "error")
        throw new Error(`cannot evaluate ${call.action} on ${call.resource}: ${JSON.stringify(result.errors)}`);
      const analyses = result.resultType === "single" ? [result.result] : result.results;
      const used = analyses.flatMap((analysis) =>
        (analysis.analysis?.identityAnalysis?.allowStatements ?? []).flatMap((allowed) => {
          const explain = allowed.explain;
          const actions = [explain.actions ?? []]
            .flat()
            .filter((action) => action.matches)
            .map((action) => action.action);
          const resources = [explain.resources ?? []]
            .flat()
            .filter((resource) => resource.matches)
            .map((resource) => resource.resource);
          return actions.flatMap((action) => resources.map((resource) => grant(allowed.policyId!, action, resource)));
        }),
      );
      return { call, decision: result.overallResult, used };
    },
  };
}
