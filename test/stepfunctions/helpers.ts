// Builds small CDK stacks in memory and synthesizes them, so the runner is tested against the ASL
// CDK really produces (LambdaInvoke's Parameters, Retry, OutputPath …), not a hand-written copy.
import { App, type Duration, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import {
  type ExtractedStateMachine,
  extractStateMachine,
} from '../../local/stepfunctions/definition.js'

export interface Built {
  template: Record<string, unknown>
  extracted: ExtractedStateMachine
  /** Fake ARN of each function created through `fn(id)`, by construct id. */
  arns: Record<string, string>
}

export function synth(
  build: (
    stack: Stack,
    fn: (id: string, timeout?: Duration) => lambda.IFunction,
  ) => {
    definition: sfn.IChainable
    timeout?: Duration
    queryLanguage?: sfn.QueryLanguage
  },
): Built {
  const app = new App()
  const stack = new Stack(app, 'Test')
  const functions: Record<string, lambda.Function> = {}
  const fn = (id: string, timeout?: Duration) => {
    const created = new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
      ...(timeout ? { timeout } : {}),
    })
    functions[id] = created
    return created
  }
  const { definition, timeout, queryLanguage } = build(stack, fn)
  new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    ...(timeout ? { timeout } : {}),
    ...(queryLanguage ? { queryLanguage } : {}),
  })
  const template = Template.fromStack(stack).toJSON()
  const extracted = extractStateMachine(template)
  const arns: Record<string, string> = {}
  for (const [id, created] of Object.entries(functions)) {
    const logicalId = stack.getLogicalId(created.node.defaultChild as lambda.CfnFunction)
    const arn = Object.entries(extracted.lambdaArns).find(([, lid]) => lid === logicalId)?.[0]
    if (arn) arns[id] = arn
  }
  return { template, extracted, arns }
}

/** An error class like the ones handlers throw: `name` is what Retry / Catch match. */
export class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}
