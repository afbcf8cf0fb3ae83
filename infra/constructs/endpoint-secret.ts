import { Arn, ArnFormat, SecretValue, Stack, Token, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import type { CREDENTIAL_KEYS } from "../../functions/submit-tool-outputs/endpoint/credentials/credentials";

export interface EndpointSecretProps {
  /**
   * Use this secret (one of your app's, or imported) instead of creating one; its `encryptionKey`, when set, is the
   * customer managed key the relay may decrypt with. Wins over `secretArn`.
   * @default a secret created with placeholder values, or the one `secretArn` names
   */
  readonly existingSecret?: secretsmanager.ISecret;
  /**
   * Import this secret instead of creating one, by its complete ARN (best) or a partial one (without the
   * `-` and 6 characters Secrets Manager appends). It may live in another region: the relay reads it there.
   * @default a secret created with placeholder values
   */
  readonly secretArn?: string;
  /**
   * The customer managed key that encrypts the imported secret; the relay may decrypt with it, through Secrets Manager only.
   * @default the AWS managed key `aws/secretsmanager`, which needs no grant
   */
  readonly kmsKeyArn?: string;
}

/** The placeholder the created secret starts with; `aws secretsmanager put-secret-value` replaces it after deploy. */
export const PLACEHOLDER_SECRET = { PORTKEY_API_KEY: "REPLACE_ME", PORTKEY_VIRTUAL_KEY: "REPLACE_ME" } as const;

/**
 * The secret's JSON for each endpoint row (docs/endpoints.md), placeholders for values: what the created secret's
 * description lists, and what test/infra/endpoint-secret.test.ts checks against the relay's own credential rules.
 */
export const SECRET_TEMPLATES = {
  "hosted Portkey": { PORTKEY_API_KEY: "REPLACE_ME", PORTKEY_VIRTUAL_KEY: "REPLACE_ME" },
  "hosted Portkey, Model Catalog": { PORTKEY_API_KEY: "REPLACE_ME", PORTKEY_PROVIDER: "@REPLACE_ME" },
  "self-hosted Portkey gateway": { PORTKEY_PROVIDER: "openai", ENDPOINT_BEARER_TOKEN: "REPLACE_ME" },
  "self-hosted Portkey gateway, config": { PORTKEY_CONFIG: '{"provider":"openai","api_key":"REPLACE_ME"}' },
  "OpenAI or compatible": { ENDPOINT_BEARER_TOKEN: "REPLACE_ME" },
  "Azure AI Foundry (Entra ID)": { AZURE_TENANT_ID: "REPLACE_ME", AZURE_CLIENT_ID: "REPLACE_ME", AZURE_CLIENT_SECRET: "REPLACE_ME" },
  "Amazon Bedrock API key (the role signs without any secret)": { ENDPOINT_BEARER_TOKEN: "REPLACE_ME" },
} as const satisfies Record<string, Partial<Record<(typeof CREDENTIAL_KEYS)[number], string>>>;

/** The created secret's description: the keys of each endpoint row, no value (Secrets Manager allows 2048 characters). */
export const SECRET_DESCRIPTION =
  "tool-output-relay endpoint credentials as JSON; put your endpoint's keys after deploy (docs/endpoints.md). " +
  `${Object.entries(SECRET_TEMPLATES)
    .map(([row, keys]) => `${row}: ${Object.keys(keys).join(" + ")}`)
    .join("; ")}. ` +
  "Optional: PORTKEY_CUSTOM_HOST (gateway), AZURE_AUTHORITY_HOST and AZURE_TOKEN_SCOPE (Entra ID), " +
  "ENDPOINT_SIGV4_SERVICE and ENDPOINT_SIGV4_REGION (Amazon Bedrock with the role's SigV4, usually implied by the host).";

/** A complete secret ARN ends in `-` and the 6 characters Secrets Manager appends; a partial one may look the same. */
const LOOKS_COMPLETE = /-[A-Za-z0-9]{6}$/;

/**
 * The ARNs that IAM must allow for a secret imported by `arn`. A partial ARN needs `-??????` (IAM matches the
 * complete ARN the request resolves to). A name that itself ends in `-` and six characters cannot be told from a
 * complete ARN, so such an ARN gets both readings: the exact ARN, and the one with a suffix added.
 * @example importedSecretResources("arn:aws:secretsmanager:eu-west-1:123456789012:secret:portkey") // [".../portkey-??????"]
 */
export function importedSecretResources(arn: string): string[] {
  return LOOKS_COMPLETE.test(arn) ? [arn, `${arn}-??????`] : [`${arn}-??????`];
}

/**
 * The Secrets Manager secret holding the endpoint credentials as JSON (one of SECRET_TEMPLATES, e.g.
 * `{"PORTKEY_API_KEY": "…", "PORTKEY_VIRTUAL_KEY": "…"}`): created by the stack, or an existing one imported.
 */
export class EndpointSecret extends Construct {
  readonly secret: secretsmanager.ISecret;
  /** True when the stack created the secret and its value still has to be set. */
  readonly created: boolean;
  private readonly importedArn?: string;
  private readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, props: EndpointSecretProps) {
    super(scope, id);
    this.created = props.secretArn === undefined && props.existingSecret === undefined;
    this.kmsKeyArn = props.kmsKeyArn;
    if (props.existingSecret) {
      this.secret = props.existingSecret;
      this.kmsKeyArn = props.existingSecret.encryptionKey?.keyArn ?? props.kmsKeyArn;
      // An ARN written out (an imported secret) gets the readings of importedSecretResources; a secret of the app
      // (a token) has its full ARN, unless it was imported by name.
      const arn = props.existingSecret.secretArn;
      if (!Token.isUnresolved(arn) || !props.existingSecret.secretFullArn) this.importedArn = arn;
      return;
    }
    if (props.secretArn !== undefined) {
      this.importedArn = props.secretArn;
      this.secret = secretsmanager.Secret.fromSecretAttributes(
        this,
        "Secret",
        LOOKS_COMPLETE.test(props.secretArn) ? { secretCompleteArn: props.secretArn } : { secretPartialArn: props.secretArn },
      );
      return;
    }
    const secret = new secretsmanager.Secret(this, "Secret", {
      description: SECRET_DESCRIPTION,
      // Placeholders, not credentials: the real values are set out of band and never enter the template.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(PLACEHOLDER_SECRET)),
    });
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The secret holds a third-party key (Portkey's, a provider's, or an Entra ID client secret) that Secrets Manager cannot rotate; the owner rotates it there and puts the new value.",
    });
    this.secret = secret;
  }

  /**
   * Lets `grantee` read the secret's value (`GetSecretValue` only: the relay never describes it), and decrypt with
   * its customer managed key through Secrets Manager only. Both statements are written out: CDK's grantRead adds
   * DescribeSecret, and skips an imported key it cannot place in this stack's environment (an environment-agnostic
   * stack never can).
   */
  grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: this.importedArn ? importedSecretResources(this.importedArn) : [this.secret.secretArn],
      }),
    );
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
