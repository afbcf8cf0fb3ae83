import { pathToFileURL } from "node:url";
import { App, type AppProps, type Environment, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { InvalidContextError, parseContext } from "./context";
import { RelayStack } from "./relay-stack";

export interface RelayAppProps extends AppProps {
  /** The handler to bundle. @default the relay in functions/ */
  readonly handlerEntry?: string;
  /**
   * Where the stack deploys. @default environment-agnostic: the template names no account or region (CloudFormation
   * fills them in at deploy), so the same template deploys anywhere and checks that need the region run as template rules.
   */
  readonly env?: Environment;
}

/**
 * The relay's CDK app: context validated, the stack built, cdk-nag's AWS Solutions checks registered
 * (synth fails on an unacknowledged error; warnings are reported).
 * @example createRelayApp({ context: { fifo: true } }).app.synth();
 */
export function createRelayApp(props: RelayAppProps = {}): { app: App; stack: RelayStack } {
  const { handlerEntry, env, ...appProps } = props;
  const app = new App(appProps);
  const config = parseContext(app.node.getAllContext());
  // No env from CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION: without credentials the CLI still sets the region
  // (us-east-1 when none is configured), which would pin a template meant to be environment-agnostic.
  const stack = new RelayStack(app, config.stackName, { config, handlerEntry, env });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const runAsEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsEntryPoint) {
  try {
    createRelayApp().app.synth();
  } catch (error) {
    // A wrong option is the user's to fix, not a crash: its message alone, once (cdk prints the exit code).
    if (!(error instanceof InvalidContextError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}
