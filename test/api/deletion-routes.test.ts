import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn'
import { mockClient } from 'aws-sdk-client-mock'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { awsDeletionBackend as deletionBackend } from '../../functions/api/deletion-executions.js'
import { getDeletion, startDeletion } from '../../functions/api/deletions.js'
import { handler as getDeletionHandler } from '../../functions/api/get-deletion.js'
import { basePath } from '../../functions/api/start-deletion.js'
import { ApiError } from '../../functions/contract/errors.js'
import { MAX_ATTEMPTS } from '../../functions/core/deletions.js'
import { type SeamClient, SeamError, SeamNotFoundError } from '../../functions/seam/index.js'
import { apiEvent, lambdaContext } from './events.js'

const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:Deletion'
const ID = '4d5a1c3e-58b0-4c1c-9a1e-6f1f3f0a9b21'
const arn = (n: number) => `arn:aws:states:us-east-1:123456789012:execution:Deletion:${ID}--${n}`
const sfn = mockClient(SFNClient)

const seamKnowing = (known: boolean) =>
  ({
    userIdentities: {
      get: async () => {
        if (known) return { user_identity_id: ID }
        throw new SeamError({
          name: SeamNotFoundError,
          type: 'user_identity_not_found',
          message: 'not found',
          status: 404,
          retryable: false,
        })
      },
    },
  }) as unknown as SeamClient

const missing = () => new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} })
const execution = (n: number, status: ExecutionStatus, extra: object = {}) => ({
  executionArn: arn(n),
  stateMachineArn: SM,
  name: `${ID}--${n}`,
  status,
  startDate: new Date('2026-01-01T00:00:00Z'),
  ...extra,
})

describe('deletion routes (SFN via aws-sdk-client-mock)', () => {
  beforeEach(() => {
    sfn.reset()
    process.env.DELETION_STATE_MACHINE_ARN = SM
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] })
  })
  afterAll(() => {
    delete process.env.DELETION_STATE_MACHINE_ARN
  })

  it('starts attempt 1 with the identity as the only input', async () => {
    sfn.on(DescribeExecutionCommand).rejects(missing())
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn(1), startDate: new Date() })
    const deletion = await startDeletion(seamKnowing(true), deletionBackend(), ID)
    expect(deletion).toMatchObject({
      deletion_id: `${ID}--1`,
      status: 'RUNNING',
      user_identity_id: ID,
    })
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input
    expect(start).toEqual({
      stateMachineArn: SM,
      name: `${ID}--1`,
      input: JSON.stringify({ user_identity_id: ID }),
    })
  })

  it('returns the running deletion instead of starting another', async () => {
    sfn.on(DescribeExecutionCommand).resolves(execution(1, 'RUNNING'))
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 9,
          type: 'WaitStateEntered',
          timestamp: new Date(),
          stateEnteredEventDetails: { name: 'Wait for ACS credentials' },
        },
      ],
    })
    const deletion = await startDeletion(seamKnowing(true), deletionBackend(), ID)
    expect(deletion).toMatchObject({ deletion_id: `${ID}--1`, stage: 'acs_credentials' })
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0)
  })

  it('starts the next attempt after a failed one', async () => {
    sfn
      .on(DescribeExecutionCommand, { executionArn: arn(1) })
      .resolves(execution(1, 'FAILED', { error: 'StageStuck', cause: 'stuck' }))
    sfn.on(DescribeExecutionCommand, { executionArn: arn(2) }).rejects(missing())
    sfn.on(StartExecutionCommand).resolves({ executionArn: arn(2), startDate: new Date() })
    const deletion = await startDeletion(seamKnowing(true), deletionBackend(), ID)
    expect(deletion.deletion_id).toBe(`${ID}--2`)
  })

  it(`answers 409 too_many_deletion_attempts once all ${MAX_ATTEMPTS} attempts failed, starting none`, async () => {
    sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }: { executionArn: string }) => ({
      ...execution(Number(executionArn.split('--').at(-1)), 'FAILED'),
      executionArn,
    }))
    await expect(startDeletion(seamKnowing(true), deletionBackend(), ID)).rejects.toMatchObject({
      status: 409,
      type: 'too_many_deletion_attempts',
      message: expect.stringContaining(`${ID} has failed to delete ${MAX_ATTEMPTS} times`),
    })
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(MAX_ATTEMPTS)
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0)
  })

  it('reports the execution a concurrent DELETE started first', async () => {
    sfn.on(DescribeExecutionCommand).rejectsOnce(missing()).resolves(execution(1, 'RUNNING'))
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }))
    const deletion = await startDeletion(seamKnowing(true), deletionBackend(), ID)
    expect(deletion).toMatchObject({ deletion_id: `${ID}--1`, status: 'RUNNING' })
  })

  it('answers 404 when Seam does not know the identity, without touching Step Functions', async () => {
    await expect(startDeletion(seamKnowing(false), deletionBackend(), ID)).rejects.toMatchObject({
      status: 404,
      type: 'user_identity_not_found',
    })
    expect(sfn.calls()).toHaveLength(0)
  })

  it('answers 400 for an id that is no Seam id', async () => {
    const error = await startDeletion(seamKnowing(true), deletionBackend(), '../x').catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 400, type: 'invalid_input' })
  })

  it('GET reports a finished deletion through the handler, in the contract shape', async () => {
    const summary = {
      client_sessions_deleted: 1,
      acs_credentials_deleted: 2,
      acs_users_deleted: 1,
      enrollment_automations_deleted: 0,
      phones_deactivated: 1,
    }
    sfn.on(DescribeExecutionCommand).resolves(
      execution(1, 'SUCCEEDED', {
        stopDate: new Date('2026-01-01T00:02:00Z'),
        output: JSON.stringify({ user_identity_id: ID, summary }),
      }),
    )
    const result = await getDeletionHandler(
      apiEvent({
        method: 'GET',
        path: `/deletions/${ID}--1`,
        pathParameters: { deletion_id: `${ID}--1` },
      }),
      lambdaContext(),
    )
    expect(result.statusCode).toBe(200)
    expect(JSON.parse(result.body)).toEqual({
      deletion: {
        deletion_id: `${ID}--1`,
        user_identity_id: ID,
        status: 'SUCCEEDED',
        stage: 'user_identity',
        started_at: '2026-01-01T00:00:00.000Z',
        stopped_at: '2026-01-01T00:02:00.000Z',
        summary,
      },
    })
  })

  it('GET answers 404 deletion_not_found for unknown and malformed ids', async () => {
    sfn.on(DescribeExecutionCommand).rejects(missing())
    await expect(getDeletion(deletionBackend(), `${ID}--7`)).rejects.toMatchObject({
      status: 404,
      type: 'deletion_not_found',
    })
    const result = await getDeletionHandler(
      apiEvent({ method: 'GET', path: '/deletions/..', pathParameters: { deletion_id: '..' } }),
      lambdaContext(),
    )
    expect(result.statusCode).toBe(404)
    expect(JSON.parse(result.body).error).toMatchObject({ type: 'deletion_not_found' })
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1)
  })
})

describe('the Location of a started deletion', () => {
  const at = (path: string, requestPath: string) =>
    basePath({ path, requestContext: { path: requestPath } } as never)

  it('keeps the stage prefix of API Gateway’s own endpoint', () => {
    expect(at(`/user-identities/${ID}`, `/prod/user-identities/${ID}`)).toBe('/prod')
  })

  it('keeps a custom domain’s base path mapping, and adds nothing locally', () => {
    expect(at(`/user-identities/${ID}`, `/v1/seam/user-identities/${ID}`)).toBe('/v1/seam')
    expect(at(`/user-identities/${ID}`, `/user-identities/${ID}`)).toBe('')
    expect(at(`/user-identities/${ID}`, '/elsewhere')).toBe('')
  })
})
