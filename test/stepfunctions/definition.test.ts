// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub syntax
import { App, Duration, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb'
import * as lambda from 'aws-cdk-lib/aws-lambda'
import * as sfn from 'aws-cdk-lib/aws-stepfunctions'
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { describe, expect, it } from 'vitest'
import { UnsupportedDefinitionError } from '../../local/stepfunctions/asl.js'
import { extractStateMachine, fakeLambdaArn } from '../../local/stepfunctions/definition.js'
import { synth } from './helpers.js'

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:'

describe('extractStateMachine', () => {
  it('resolves the Fn::Join CDK writes into plain ASL with fake Lambda ARNs', () => {
    const { extracted, template } = synth((stack, fn) => {
      const a = new tasks.LambdaInvoke(stack, 'Delete', {
        lambdaFunction: fn('DeleteFn', Duration.seconds(30)),
        outputPath: '$.Payload',
      })
      const b = new tasks.LambdaInvoke(stack, 'Check', {
        lambdaFunction: fn('CheckFn'),
        payloadResponseOnly: true,
      })
      return { definition: a.next(b), timeout: Duration.hours(2) }
    })
    // the template really is tokenized
    const resources = template.Resources as Record<string, { Type: string; Properties?: object }>
    const machine = Object.values(resources).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    )
    expect(machine?.Properties).toHaveProperty(['DefinitionString', 'Fn::Join'])

    const { definition, lambdaArns, lambdaFunctions, stateMachineArn, logicalId } = extracted
    expect(logicalId).toMatch(/^Machine/)
    expect(stateMachineArn).toBe(`arn:aws:states:us-east-1:123456789012:stateMachine:${logicalId}`)
    expect(definition.TimeoutSeconds).toBe(7200)
    const deleteState = definition.States.Delete as Record<string, unknown>
    expect(deleteState.Resource).toBe('arn:aws:states:::lambda:invoke')
    const deleteFn = (deleteState.Parameters as { FunctionName: string }).FunctionName
    expect(deleteFn).toMatch(new RegExp(`^${FN}DeleteFn[0-9A-F]{8}$`))
    expect(deleteState.Parameters).toEqual({ FunctionName: deleteFn, 'Payload.$': '$' })
    expect(deleteState.OutputPath).toBe('$.Payload')
    // CDK's default retrier on Lambda service errors comes through untouched
    expect(deleteState.Retry).toEqual([
      expect.objectContaining({
        ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']),
        IntervalSeconds: 2,
        MaxAttempts: 6,
        BackoffRate: 2,
      }),
    ])
    const checkFn = String(definition.States.Check?.Resource)
    expect(checkFn).toMatch(new RegExp(`^${FN}CheckFn`))
    expect(lambdaArns).toEqual({
      [deleteFn]: deleteFn.slice(FN.length),
      [checkFn]: checkFn.slice(FN.length),
    })
    expect(lambdaFunctions[deleteFn]).toMatchObject({ timeoutSeconds: 30 })
    expect(fakeLambdaArn(lambdaArns[deleteFn] as string)).toBe(deleteFn)
  })

  it('reads the stacks of a cloud assembly (app.synth())', () => {
    const app = new App()
    const stack = new Stack(app, 'Assembled')
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('x'),
    })
    new sfn.StateMachine(stack, 'Machine', {
      stateMachineName: 'delete-user-identity',
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.LambdaInvoke(stack, 'Call', { lambdaFunction: fn }),
      ),
    })
    const extracted = extractStateMachine(app.synth(), {
      region: 'eu-west-1',
      accountId: '111122223333',
    })
    expect(extracted.stateMachineArn).toBe(
      'arn:aws:states:eu-west-1:111122223333:stateMachine:delete-user-identity',
    )
    expect(Object.keys(extracted.lambdaArns)[0]).toMatch(
      /^arn:aws:lambda:eu-west-1:111122223333:function:Fn/,
    )
  })

  it('resolves Fn::Sub, Ref of a function (its name), pseudo parameters and DefinitionSubstitutions', () => {
    const template = {
      Parameters: { Stage: { Type: 'String', Default: 'dev' } },
      Resources: {
        Worker: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Timeout: 10,
            Handler: 'index.handler',
            Environment: {
              Variables: { STAGE: { Ref: 'Stage' }, TABLE: { Ref: 'SomeTable' }, N: 3 },
            },
          },
        },
        SomeTable: { Type: 'AWS::DynamoDB::Table' },
        Live: {
          Type: 'AWS::Lambda::Alias',
          Properties: { FunctionName: { Ref: 'Worker' }, Name: 'live' },
        },
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            StateMachineName: { 'Fn::Sub': 'deletions-${Stage}' },
            DefinitionString: {
              'Fn::Sub': JSON.stringify({
                Comment: '${AWS::Region} ${!Literal}',
                StartAt: 'ByArn',
                States: {
                  ByArn: { Type: 'Task', Resource: '${Worker.Arn}', Next: 'ByName' },
                  ByName: {
                    Type: 'Task',
                    Resource: 'arn:${AWS::Partition}:states:::lambda:invoke',
                    Parameters: { FunctionName: '${Worker}', 'Payload.$': '$' },
                    Next: 'ByAlias',
                  },
                  ByAlias: {
                    Type: 'Task',
                    Resource: 'arn:aws:states:::lambda:invoke',
                    Parameters: { FunctionName: '${Live}' },
                    Next: 'Sub',
                  },
                  Sub: { Type: 'Pass', Result: '${!greeting}', End: true },
                },
              }),
            },
            DefinitionSubstitutions: {
              greeting: { 'Fn::Join': ['-', ['hello', { Ref: 'Stage' }]] },
            },
          },
        },
      },
    }
    const { definition, lambdaArns, stateMachineArn, lambdaFunctions } =
      extractStateMachine(template)
    expect(stateMachineArn).toMatch(/:stateMachine:deletions-dev$/)
    expect(definition.Comment).toBe('us-east-1 ${Literal}')
    expect(definition.States.ByArn?.Resource).toBe(`${FN}Worker`)
    expect(definition.States.ByName?.Parameters).toEqual({
      FunctionName: 'Worker',
      'Payload.$': '$',
    })
    expect(definition.States.ByAlias?.Parameters).toEqual({ FunctionName: `${FN}Worker:live` })
    expect(definition.States.Sub?.Result).toBe('hello-dev')
    expect(lambdaArns).toEqual({ [`${FN}Worker`]: 'Worker' })
    expect(lambdaFunctions[`${FN}Worker`]).toEqual({
      logicalId: 'Worker',
      functionName: 'Worker',
      timeoutSeconds: 10,
      handler: 'index.handler',
      environment: { STAGE: 'dev', N: '3' },
    })
  })

  it('asks for a logical id when the template has several state machines', () => {
    const machine = (name: string) => ({
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: JSON.stringify({
          StartAt: 'P',
          States: { P: { Type: 'Pass', Result: name, End: true } },
        }),
      },
    })
    const template = { Resources: { One: machine('one'), Two: machine('two') } }
    expect(() => extractStateMachine(template)).toThrow(/several state machines \(One, Two\)/)
    expect(extractStateMachine(template, { logicalId: 'Two' }).definition.States.P?.Result).toBe(
      'two',
    )
    expect(() => extractStateMachine(template, { logicalId: 'Three' })).toThrow(/found: One, Two/)
    expect(() => extractStateMachine({ Resources: {} })).toThrow(
      /no AWS::StepFunctions::StateMachine/,
    )
  })

  it('refuses a JSONata state machine, and a JSONPath one with a JSONata state', () => {
    expect(() =>
      synth((stack, fn) => ({
        definition: new tasks.LambdaInvoke(stack, 'Call', { lambdaFunction: fn('Fn') }),
        queryLanguage: sfn.QueryLanguage.JSONATA,
      })),
    ).toThrow(UnsupportedDefinitionError)
    try {
      synth((stack, fn) => ({
        definition: new sfn.Pass(stack, 'Start').next(
          tasks.LambdaInvoke.jsonata(stack, 'Call', {
            lambdaFunction: fn('Fn'),
            payload: sfn.TaskInput.fromObject({ id: '{% $states.input.id %}' }),
          }),
        ),
      }))
      expect.unreachable('a JSONata state must be refused')
    } catch (error) {
      expect(error).toBeInstanceOf(UnsupportedDefinitionError)
      expect((error as Error).message).toMatch(/JSONPath only/)
      expect((error as Error).message).toMatch(/States\.Call \(QueryLanguage: "JSONata"\)/)
      expect((error as Error).message).toMatch(/States\.Call\.Arguments/)
    }
  })

  it('refuses a token it cannot resolve, naming it', () => {
    const app = new App()
    const stack = new Stack(app, 'WithTable')
    const table = new dynamodb.Table(stack, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    })
    new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.DynamoGetItem(stack, 'Get', {
          table,
          key: { pk: tasks.DynamoAttributeValue.fromString('x') },
        }),
      ),
    })
    const template = Template.fromStack(stack).toJSON()
    expect(() => extractStateMachine(template)).toThrow(/Cannot resolve \{"Ref":"Table[0-9A-F]+"\}/)
    expect(() =>
      extractStateMachine({
        Resources: {
          M: {
            Type: 'AWS::StepFunctions::StateMachine',
            Properties: { DefinitionString: { 'Fn::ImportValue': 'shared-definition' } },
          },
        },
      }),
    ).toThrow(/Fn::ImportValue cannot be evaluated locally/)
  })
})
