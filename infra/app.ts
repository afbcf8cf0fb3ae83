import { pathToFileURL } from "node:url";
import { App, type AppProps, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { parseContext } from "./context";
import { RelayStack } from "./relay-stack";

/**
 * The relay's CDK app: context validated, the stack built, cdk-nag's AWS Solutions checks registered
 * (synth fails on an unacknowledged error; warnings are reported).
 * @example createRelayApp({ context: { fifo: true } }).app.synth();
 */
export function createRelayApp(props: AppProps & { handlerEntry?: string } = {}): { app: App; stack: RelayStack } {
  const { handlerEntry, ...appProps } = props;
  const app = new App(appProps);
  const config = parseContext(app.node.getAllContext());
  const stack = new RelayStack(app, config.stackName, {
    config,
    handlerEntry,
    // Unset without credentials: the template is then environment-agnostic, which is all the stack needs.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const runAsEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsEntryPoint) createRelayApp().app.synth();
