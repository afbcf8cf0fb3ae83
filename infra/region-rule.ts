import { Arn, ArnFormat, Aws, CfnRule, Fn, type Stack, Token } from "aws-cdk-lib";
import { InvalidContextError } from "./context";

export interface SameRegionRequirement {
  /** The context option that holds the ARN, named in the error. */
  readonly option: string;
  readonly arn: string;
  /** Why the resource must be in the stack's region, for the error and the template rule. */
  readonly because: string;
  /** Logical id of the template rule. */
  readonly ruleId: string;
}

/**
 * Requires the resource `arn` names to be in the stack's region: at synth when the stack's region is known, else
 * with a template rule that CloudFormation evaluates before it creates or changes anything.
 * @throws InvalidContextError naming the option, when the region is known and differs.
 * @example
 * requireSameRegion(stack, { option: "alarmTopicArn", arn, because: "CloudWatch notifies only its region", ruleId: "AlarmTopicInRegion" });
 */
export function requireSameRegion(stack: Stack, requirement: SameRegionRequirement): void {
  const region = Arn.split(requirement.arn, ArnFormat.COLON_RESOURCE_NAME).region;
  if (!region) return;
  const message = `context option "${requirement.option}" names a resource in ${region}, but ${requirement.because}`;
  if (!Token.isUnresolved(stack.region)) {
    if (stack.region !== region) throw new InvalidContextError([requirement.option], `${message} (the stack deploys to ${stack.region})`);
    return;
  }
  new CfnRule(stack, requirement.ruleId, {
    assertions: [{ assert: Fn.conditionEquals(Aws.REGION, region), assertDescription: `${message}: deploy the stack to ${region}` }],
  });
}
