/**
 * The Step Functions calls the deletion routes make, behind one small interface: in Lambda it is the AWS
 * SDK's SFNClient; the local runtime passes its own runner in (the handlers' createHandler), so the route
 * handlers do not change.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type GetExecutionHistoryCommandOutput,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  type StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn'

type Out<T> = Promise<Omit<T, '$metadata'>>

export interface DeletionExecutions {
  startExecution(input: StartExecutionCommandInput): Out<StartExecutionCommandOutput>
  describeExecution(input: DescribeExecutionCommandInput): Out<DescribeExecutionCommandOutput>
  getExecutionHistory(input: GetExecutionHistoryCommandInput): Out<GetExecutionHistoryCommandOutput>
}

export interface DeletionBackend {
  readonly executions: DeletionExecutions
  readonly stateMachineArn: string
}

let aws: DeletionBackend | undefined

/** The AWS backend, for the state machine DELETION_STATE_MACHINE_ARN names (built once per cold start). */
export function awsDeletionBackend(): DeletionBackend {
  if (aws) return aws
  const stateMachineArn = process.env.DELETION_STATE_MACHINE_ARN
  if (!stateMachineArn) {
    throw new Error(
      'DELETION_STATE_MACHINE_ARN is not set: the deletion routes need the state machine',
    )
  }
  const client = new SFNClient({})
  aws = {
    stateMachineArn,
    executions: {
      startExecution: (input) => client.send(new StartExecutionCommand(input)),
      describeExecution: (input) => client.send(new DescribeExecutionCommand(input)),
      getExecutionHistory: (input) => client.send(new GetExecutionHistoryCommand(input)),
    },
  }
  return aws
}
