import { RemovalPolicy } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import type { Construct } from "constructs";

/**
 * A customer managed key for one SNS topic: rotating, scheduled for deletion with the stack (SNS keeps no
 * messages, so nothing needs the key after its topic), and refusing KMS grants to anyone but AWS services
 * (Control Tower's CT.KMS.PR.3: SNS and CloudWatch use the key directly, never through grants).
 * @example const key = createTopicKey(this, "Key", "Encrypts the tool-output-relay results topic");
 */
export function createTopicKey(scope: Construct, id: string, description: string): kms.Key {
  const key = new kms.Key(scope, id, { description, enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "GrantsOnlyForAwsServices",
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ["kms:CreateGrant"],
      resources: ["*"], // in a key policy, "*" means this key
      conditions: { BoolIfExists: { "kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false" } },
    }),
  );
  return key;
}
