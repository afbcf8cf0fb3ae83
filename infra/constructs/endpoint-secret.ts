import { Arn, ArnFormat, SecretValue, Stack, Token, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

export interface EndpointSecretProps {
  /** Import this secret instead of creating one. A complete ARN (with the 6-character suffix) is best. */
  readonly secretArn?: string;
  /** The customer managed key that encrypts the imported secret; the relay may decrypt with it, through Secrets Manager only. */
  readonly kmsKeyArn?: string;
}

/** The placeholder the created secret starts with; `aws secretsmanager put-secret-value` replaces it after deploy. */
export const PLACEHOLDER_SECRET = { PORTKEY_API_KEY: "REPLACE_ME", PORTKEY_VIRTUAL_KEY: "REPLACE_ME" } as const;

/**
 * The Secrets Manager secret holding the endpoint credentials as JSON
 * (`{"PORTKEY_API_KEY": "…", "PORTKEY_VIRTUAL_KEY": "…"}`): created by the stack, or an existing one imported.
 */
export class EndpointSecret extends Construct {
  readonly secret: secretsmanager.ISecret;
  /** True when the stack created the secret and its value still has to be set. */
  readonly created: boolean;
  private readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: EndpointSecretProps) {
    super(scope, id);
    this.created = props.secretArn === undefined;
    this.kmsKeyArn = props.kmsKeyArn;
    if (props.secretArn !== undefined) {
      // Secrets Manager appends "-" and 6 characters to a secret's name to form its complete ARN.
      const complete = /-[A-Za-z0-9]{6}$/.test(props.secretArn);
      this.secret = secretsmanager.Secret.fromSecretAttributes(
        this,
        "Secret",
        complete ? { secretCompleteArn: props.secretArn } : { secretPartialArn: props.secretArn },
      );
      return;
    }
    const secret = new secretsmanager.Secret(this, "Secret", {
      description: "tool-output-relay endpoint credentials: set PORTKEY_API_KEY and PORTKEY_VIRTUAL_KEY after deploy",
      // Placeholders, not credentials: the real values are set out of band and never enter the template.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(PLACEHOLDER_SECRET)),
    });
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The secret holds a third-party API key (Portkey) that Secrets Manager cannot rotate; the owner rotates it in Portkey and puts the new value.",
    });
    this.secret = secret;
  }

  /**
   * Lets `grantee` read the secret's value, and decrypt with its customer managed key through Secrets Manager only.
   * The key statement is written out because CDK's grant skips an imported key it cannot place in this
   * stack's environment (an environment-agnostic stack never can).
   */
  grantRead(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
    if (!this.kmsKeyArn) return;
    const secretRegion = Arn.split(this.secret.secretArn, ArnFormat.COLON_RESOURCE_NAME).region;
    const region = secretRegion && !Token.isUnresolved(secretRegion) ? secretRegion : Stack.of(this).region;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["kms:Decrypt"],
        resources: [this.kmsKeyArn],
        conditions: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
      }),
    );
  }
}
