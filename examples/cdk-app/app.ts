/**
 * A team's own CDK app with the relay inside it: the team already has an orders table, an on-call topic and a
 * worker queue; the relay publishes into the team's results topic and alarms to its on-call topic, and the team's
 * tool workers get `*.requires_action` events (with the tool names as an attribute) on their own queue.
 *
 * In your app, import from the package: `import { ToolOutputRelay } from "tool-output-relay";`
 * Synthesize: `npx cdk synth --app "npx tsx examples/cdk-app/app.ts"`.
 */
import { pathToFileURL } from "node:url";
import { App, type AppProps, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { Construct } from "constructs";
import { ToolOutputRelay } from "../../lib/index";

export interface OrdersStackProps extends StackProps {
  /** The relay's handler to bundle (tests pass a stand-in). @default the relay's own */
  readonly relayHandlerEntry?: string;
}

/** The team's stack: its own resources, and the relay beside them. */
export class OrdersStack extends Stack {
  readonly orders: dynamodb.Table;
  readonly workerQueue: sqs.Queue;
  readonly relay: ToolOutputRelay;

  constructor(scope: Construct, id: string, props: OrdersStackProps = {}) {
    super(scope, id, props);
    // The team's own resource, which the relay knows nothing about.
    this.orders = new dynamodb.Table(this, "Orders", {
      partitionKey: { name: "order_id", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const topicKey = new kms.Key(this, "TopicKey", { enableKeyRotation: true, description: "Encrypts the team's topics" });
    const onCall = new sns.Topic(this, "OnCall", { masterKey: topicKey, enforceSSL: true });
    const results = new sns.Topic(this, "RunResults", { masterKey: topicKey, enforceSSL: true });
    const workerDeadLetters = new sqs.Queue(this, "WorkerDeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.workerQueue = new sqs.Queue(this, "ToolWork", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: workerDeadLetters, maxReceiveCount: 5 },
    });

    this.relay = new ToolOutputRelay(this, "Relay", {
      existingResultsTopic: results,
      existingAlarmTopic: onCall,
      resultsSubscriptionQueue: this.workerQueue,
      resultsSubscriptionTypes: ["run.requires_action", "response.requires_action", "session.requires_action"],
      tuning: { FOLLOW_BUDGET_MS: "20000" },
      timeout: Duration.seconds(45),
      handlerEntry: props.relayHandlerEntry,
    });
  }
}

/** The app as `cdk synth` builds it, cdk-nag's AWS Solutions checks on. */
export function createOrdersApp(props: AppProps & OrdersStackProps = {}): { app: App; stack: OrdersStack } {
  const { relayHandlerEntry, ...appProps } = props;
  const app = new App(appProps);
  const stack = new OrdersStack(app, "Orders", { relayHandlerEntry });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const runAsEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsEntryPoint) createOrdersApp().app.synth();
