/**
 * Resolves a synthesized template's intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, AWS::NoValue) against local stand-ins for its resources, so that the function's environment and its
 * role's policies can be read as plain strings naming loopback resources. Written by hand: no maintained library
 * evaluates CloudFormation intrinsics offline, and these few are all CDK emits for this stack. An intrinsic or a
 * resource type it does not know is an error, so a new one in the template is noticed here.
 */

/** The pseudo parameters' values for the simulated deployment. */
export interface SimulatedEnvironment {
  account: string;
  region: string;
  partition: string;
  stackName: string;
}

/** What `Ref` and `Fn::GetAtt` give for one resource. */
export interface PhysicalResource {
  ref: string;
  attributes: Record<string, string>;
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, any> }> };

const NO_VALUE = Symbol("AWS::NoValue");

export class TemplateResolver {
  constructor(
    private readonly environment: SimulatedEnvironment,
    private readonly physical: Record<string, PhysicalResource>,
  ) {}

  /**
   * The value with every intrinsic evaluated.
   * @example resolver.resolve({ "Fn::GetAtt": ["QueuesInputQueueDE9E11E9", "Arn"] }) // "arn:aws:sqs:us-east-1:000000000000:…"
   */
  resolve(value: unknown): any {
    const resolved = this.evaluate(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  private evaluate(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.evaluate(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined && (key === "Ref" || key.startsWith("Fn::"))) return this.intrinsic(key, argument);
    return Object.fromEntries(entries.map(([name, inner]) => [name, this.evaluate(inner)]).filter(([, inner]) => inner !== NO_VALUE));
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case "Ref":
        return this.ref(String(argument));
      case "Fn::GetAtt": {
        const [id, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/);
        return this.attribute(String(id), String(this.evaluate(attribute)));
      }
      case "Fn::Join": {
        const [delimiter, parts] = argument as [string, unknown[]];
        return (this.evaluate(parts) as unknown[]).join(delimiter);
      }
      case "Fn::Select": {
        const [index, list] = argument as [unknown, unknown];
        return (this.evaluate(list) as unknown[])[Number(this.evaluate(index))];
      }
      case "Fn::Split": {
        const [delimiter, text] = argument as [string, unknown];
        return String(this.evaluate(text)).split(delimiter);
      }
      case "Fn::Sub": {
        const [text, variables = {}] = Array.isArray(argument) ? argument : [argument];
        const own = this.evaluate(variables) as Record<string, unknown>;
        return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_, reference: string) => {
          if (reference in own) return String(own[reference]);
          const [id, attribute] = reference.split(/\.(.*)/);
          return attribute ? this.attribute(id!, attribute) : String(this.ref(id!));
        });
      }
      default:
        throw new Error(`the template resolver does not know ${name}`);
    }
  }

  private ref(id: string): unknown {
    switch (id) {
      case "AWS::AccountId":
        return this.environment.account;
      case "AWS::Region":
        return this.environment.region;
      case "AWS::Partition":
        return this.environment.partition;
      case "AWS::URLSuffix":
        return "amazonaws.com";
      case "AWS::StackName":
        return this.environment.stackName;
      case "AWS::NoValue":
        return NO_VALUE;
    }
    const resource = this.physical[id];
    if (!resource) throw new Error(`no local stand-in for ${id} (Ref)`);
    return resource.ref;
  }

  private attribute(id: string, attribute: string): string {
    const value = this.physical[id]?.attributes[attribute];
    if (value === undefined) throw new Error(`no local stand-in for ${id}.${attribute} (Fn::GetAtt)`);
    return value;
  }
}

export interface LocalEndpoints {
  /** The origin in queue URLs: where the function's SQS requests go. */
  sqsOrigin: string;
}

/**
 * Local names, ARNs and URLs for the template's resources, the way AWS would form them for this account and region.
 * @example const physical = physicalResources(template, environment, { sqsOrigin: proxy.endpoint });
 */
export function physicalResources(
  template: Template,
  environment: SimulatedEnvironment,
  endpoints: LocalEndpoints,
): Record<string, PhysicalResource> {
  const { account, region, partition, stackName } = environment;
  const arn = (service: string, resource: string, inRegion = region, inAccount = account) =>
    `arn:${partition}:${service}:${inRegion}:${inAccount}:${resource}`;
  // CloudFormation's generated names: stack, logical id, a random suffix.
  const generated = (id: string) => `${stackName}-${id}-LOCAL`.slice(0, 80);
  const physical: Record<string, PhysicalResource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const p = resource.Properties ?? {};
    switch (resource.Type) {
      case "AWS::SQS::Queue": {
        const name: string = p.QueueName ?? `${generated(id)}${p.FifoQueue ? ".fifo" : ""}`;
        const url = `${endpoints.sqsOrigin}/${account}/${name}`;
        physical[id] = { ref: url, attributes: { Arn: arn("sqs", name), QueueName: name, QueueUrl: url } };
        break;
      }
      case "AWS::SNS::Topic": {
        const name: string = p.TopicName ?? `${generated(id)}${p.FifoTopic ? ".fifo" : ""}`;
        physical[id] = { ref: arn("sns", name), attributes: { TopicArn: arn("sns", name), TopicName: name } };
        break;
      }
      case "AWS::KMS::Key": {
        const keyId = `00000000-0000-4000-8000-${id
          .replace(/[^0-9a-f]/gi, "")
          .padEnd(12, "0")
          .slice(0, 12)
          .toLowerCase()}`;
        physical[id] = { ref: keyId, attributes: { Arn: arn("kms", `key/${keyId}`), KeyId: keyId } };
        break;
      }
      case "AWS::SecretsManager::Secret": {
        const secretArn = arn("secretsmanager", `secret:${p.Name ?? id}-AbCdEf`);
        physical[id] = { ref: secretArn, attributes: { Id: secretArn } };
        break;
      }
      case "AWS::Logs::LogGroup": {
        const name: string = p.LogGroupName ?? generated(id);
        physical[id] = { ref: name, attributes: { Arn: arn("logs", `log-group:${name}:*`) } };
        break;
      }
      case "AWS::DynamoDB::Table": {
        const name: string = p.TableName ?? generated(id);
        physical[id] = {
          ref: name,
          attributes: { Arn: arn("dynamodb", `table/${name}`), StreamArn: arn("dynamodb", `table/${name}/stream/LOCAL`) },
        };
        break;
      }
      case "AWS::S3::Bucket": {
        const name: string =
          p.BucketName ??
          generated(id)
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, "-")
            .slice(0, 63);
        physical[id] = { ref: name, attributes: { Arn: `arn:${partition}:s3:::${name}`, DomainName: `${name}.s3.amazonaws.com` } };
        break;
      }
      case "AWS::IAM::Role": {
        const name: string = p.RoleName ?? generated(id).slice(0, 64);
        physical[id] = {
          ref: name,
          attributes: { Arn: `arn:${partition}:iam::${account}:role/${name}`, RoleId: `AROA${id.toUpperCase()}` },
        };
        break;
      }
      case "AWS::Lambda::Function": {
        const name: string = p.FunctionName ?? generated(id).slice(0, 64);
        physical[id] = { ref: name, attributes: { Arn: arn("lambda", `function:${name}`) } };
        break;
      }
      case "AWS::CloudWatch::Alarm": {
        // The dashboard's alarm-status widget names its alarms by ARN.
        const name: string = p.AlarmName ?? generated(id);
        physical[id] = { ref: name, attributes: { Arn: arn("cloudwatch", `alarm:${name}`) } };
        break;
      }
      default:
        // Resources nothing refers to in the function's environment or policies (alarms, policies, subscriptions…)
        // get a stand-in that names them; a reference to an attribute of theirs fails loudly.
        physical[id] = { ref: `${id}-LOCAL`, attributes: {} };
    }
  }
  return physical;
}
