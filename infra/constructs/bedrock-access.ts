import { Aws, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { type BedrockHost, foundationModelOf } from "../bedrock-hosts";

export interface BedrockAccessProps {
  /** The role that signs the relay's calls (the function's). */
  readonly role: iam.IRole;
  /** The endpoint `responsesBaseUrl` names (infra/bedrock-hosts.ts). */
  readonly host: BedrockHost;
  /** `bedrockModels`: inference-profile ids at runtime, model ids at Mantle. */
  readonly models: readonly string[];
}

/**
 * The role's permissions for Amazon Bedrock's Responses API: exactly the actions the endpoint checks for the calls
 * the relay makes (a POST /responses, GET /responses/{id}; never cancel or delete), on exactly the resources they
 * name. The region is the endpoint's (from its host), which may differ from the stack's.
 * - runtime (service `bedrock`): InvokeModel / InvokeModelWithResponseStream on each named inference profile and
 *   the foundation model it routes to (in any region: a cross-region profile may serve from another one), InvokeModel
 *   on the account's default project (runtime serves the default project only), GetInvoke on that project.
 * - Mantle (service `bedrock-mantle`): CreateInference and Get* on the region's projects (AWS's managed policy
 *   AmazonBedrockMantleInferenceAccess grants the same; which Get action a GET checks is not documented).
 */
export class BedrockAccess extends Construct {
  /** The statements added, for tests and docs. */
  readonly statements: iam.PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: BedrockAccessProps) {
    super(scope, id);
    const { host, models } = props;
    const region = host.region;
    const allow = (actions: string[], resources: string[]) => {
      const statement = new iam.PolicyStatement({ actions, resources });
      props.role.addToPrincipalPolicy(statement);
      this.statements.push(statement);
    };
    if (host.endpoint === "runtime") {
      const project = `arn:${Aws.PARTITION}:bedrock:${region}:${Aws.ACCOUNT_ID}:project/default`;
      const profiles = models.map((profile) => `arn:${Aws.PARTITION}:bedrock:${region}:${Aws.ACCOUNT_ID}:inference-profile/${profile}`);
      const foundationModels = [...new Set(models.map(foundationModelOf))].map(
        (model) => `arn:${Aws.PARTITION}:bedrock:*::foundation-model/${model}`,
      );
      allow(["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], [...profiles, ...foundationModels]);
      allow(["bedrock:InvokeModel", "bedrock:GetInvoke"], [project]);
      Validations.of(props.role).acknowledge(
        ...foundationModels.map((arn) => ({
          id: `AwsSolutions-IAM5[Resource::${arn.replace(Aws.PARTITION, "<AWS::Partition>")}]`,
          reason:
            "A cross-region inference profile routes each request to its foundation model in one of several regions AWS picks; " +
            "the model is named exactly, only its region is open (AWS's documented policy for inference profiles).",
        })),
      );
      return;
    }
    const projects = `arn:${Aws.PARTITION}:bedrock-mantle:${region}:${Aws.ACCOUNT_ID}:project/*`;
    allow(["bedrock-mantle:CreateInference", "bedrock-mantle:Get*"], [projects]);
    Validations.of(props.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock-mantle:${region}:<AWS::AccountId>:project/*]`,
        reason:
          "Bedrock Mantle scopes stored responses by project and the relay names none (the default project serves it); " +
          "the grant is limited to the endpoint's region and this account, as AWS's AmazonBedrockMantleInferenceAccess policy does.",
      },
      {
        id: "AwsSolutions-IAM5[Action::bedrock-mantle:Get*]",
        reason:
          "AWS does not document which bedrock-mantle Get action GET /responses/{id} checks (GetInference is the likely one); " +
          "Get* is what AWS's own managed policy grants for it, and the resources are the region's projects only.",
      },
    );
  }
}
