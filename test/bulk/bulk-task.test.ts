/**
 * The bulk workflow's task (functions/bulk/bulk-task.ts) and the pure bulk logic (functions/core/bulk.ts):
 * which deletion an item runs (the rules of DELETE), and how the Map's results become the summary.
 */
import { ExecutionDoesNotExist, type ExecutionStatus } from '@aws-sdk/client-sfn'
import { describe, expect, it } from 'vitest'
import type { DeletionBackend } from '../../functions/api/deletion-executions.js'
import { deletionInput } from '../../functions/api/deletions.js'
import {
  prepareItem,
  summarize,
  TooManyDeletionAttempts,
  takeSharedSlot,
} from '../../functions/bulk/bulk-task.js'
import { countsOf, summaryOf } from '../../functions/core/bulk.js'
import { MAX_ATTEMPTS } from '../../functions/core/deletions.js'
import { type SeamClient, SeamError, SeamNotFoundError } from '../../functions/seam/index.js'

const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:Deletion'
const ID = '4d5a1c3e-58b0-4c1c-9a1e-6f1f3f0a9b21'

const seam = (known: boolean) =>
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
    // Only userIdentities.get is used by prepareItem.
  }) as unknown as SeamClient

/** A deletion backend whose attempts 1, 2, … have these statuses (missing after them). */
function backend(...statuses: ExecutionStatus[]): DeletionBackend {
  return {
    stateMachineArn: SM,
    executions: {
      startExecution: async () => {
        throw new Error('prepare never starts an execution')
      },
      getExecutionHistory: async () => ({ events: [] }),
      describeExecution: async ({ executionArn }) => {
        const attempt = Number(executionArn?.split('--').at(-1))
        const status = statuses[attempt - 1]
        if (!status) throw new ExecutionDoesNotExist({ message: 'missing', $metadata: {} })
        return {
          executionArn: executionArn as string,
          stateMachineArn: SM,
          name: `${ID}--${attempt}`,
          status,
          startDate: new Date(),
        }
      },
    },
  }
}

describe('prepareItem: which deletion a bulk item runs', () => {
  it('an identity Seam does not have is not_found (no execution looked at)', async () => {
    expect(await prepareItem(seam(false), backend(), ID)).toEqual({
      user_identity_id: ID,
      outcome: 'not_found',
    })
  })

  it('no deletion yet: attempt 1, with the very input DELETE starts it with', async () => {
    expect(await prepareItem(seam(true), backend(), ID)).toEqual({
      user_identity_id: ID,
      outcome: 'start',
      deletion_id: `${ID}--1`,
      input: deletionInput(ID),
    })
  })

  it('a RUNNING deletion is joined (same name), a failed one is followed by the next attempt', async () => {
    expect((await prepareItem(seam(true), backend('RUNNING'), ID)).deletion_id).toBe(`${ID}--1`)
    expect((await prepareItem(seam(true), backend('PENDING_REDRIVE'), ID)).deletion_id).toBe(
      `${ID}--1`,
    )
    expect((await prepareItem(seam(true), backend('FAILED', 'RUNNING'), ID)).deletion_id).toBe(
      `${ID}--2`,
    )
    expect(
      (await prepareItem(seam(true), backend('FAILED', 'TIMED_OUT', 'ABORTED'), ID)).deletion_id,
    ).toBe(`${ID}--4`)
  })

  it('a SUCCEEDED attempt is the outcome, nothing started', async () => {
    expect(await prepareItem(seam(true), backend('FAILED', 'SUCCEEDED'), ID)).toEqual({
      user_identity_id: ID,
      outcome: 'succeeded',
      deletion_id: `${ID}--2`,
    })
  })

  it(`after ${MAX_ATTEMPTS} failed attempts the item fails, naming the identity`, async () => {
    const all = Array.from({ length: MAX_ATTEMPTS }, () => 'FAILED' as const)
    await expect(prepareItem(seam(true), backend(...all), ID)).rejects.toThrow(
      TooManyDeletionAttempts,
    )
    await expect(prepareItem(seam(true), backend(...all), ID)).rejects.toThrow(ID)
  })
})

describe('summarize: the Map results become counts and the failed identities', () => {
  it("counts succeeded and not_found; an item's caught failure, and anything else (whatever a failed child leaves), is failed", () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    const out = summarize(ids, [
      { outcome: 'succeeded' },
      { outcome: 'not_found' },
      { user_identity_id: 'c', deletion_id: 'c--1', outcome: 'failed' },
      { Error: 'States.TaskFailed', Cause: '…' },
      null,
    ])
    expect(out).toMatchObject({
      total: 6,
      counts: { succeeded: 1, not_found: 1, failed: 4 },
      failed_user_identity_ids: ['c', 'd', 'e', 'f'],
    })
    // The Fail cause says it in words and carries the summary the status route reads back.
    expect(JSON.parse(out.cause).message).toContain(
      '4 of 6 user identities failed to delete: c, d, e, f',
    )
    expect(summaryOf(out.cause)).toMatchObject({ counts: out.counts })
    expect(countsOf(6, summaryOf(out.cause), undefined)).toEqual({
      pending: 0,
      running: 0,
      succeeded: 1,
      failed: 4,
      not_found: 1,
    })
  })

  it('lists at most 100 failures; counts them all', () => {
    const ids = Array.from({ length: 150 }, (_, i) => `id${i}`)
    const out = summarize(ids, [])
    expect(out.counts.failed).toBe(150)
    expect(out.failed_user_identity_ids).toHaveLength(100)
    expect(JSON.parse(out.cause).message).toContain('and 50 more')
  })

  it('while running, counts come from the Map Run (pending = total − the others)', () => {
    expect(countsOf(10, undefined, { running: 3, succeeded: 4, failed: 1, timedOut: 1 })).toEqual({
      pending: 1,
      running: 3,
      succeeded: 4,
      failed: 2,
      not_found: 0,
    })
    expect(countsOf(10, undefined, undefined)).toMatchObject({ pending: 10 })
    expect(summaryOf('States.Runtime: not ours')).toBeUndefined()
  })
})

describe("the bulk task's shared Seam rate (takeSharedSlot)", () => {
  it('waits for the next window while the rate is used up, then goes', async () => {
    const answers = [750, 1000, 0]
    const slept: number[] = []
    await takeSharedSlot({ takeRateSlot: async () => answers.shift() ?? 0 }, 5, {
      sleep: async (ms) => {
        slept.push(ms)
      },
    })
    expect(answers).toEqual([])
    expect(slept).toHaveLength(2)
    expect(slept[0]).toBeGreaterThanOrEqual(750)
    expect(slept[1]).toBeGreaterThanOrEqual(1000)
  })

  it('fails as throttled (retried by the state machine) when the rate stays used past its wait', async () => {
    await expect(
      takeSharedSlot({ takeRateSlot: async () => 1000 }, 5, {
        maxWaitMs: 3_000,
        sleep: async () => {},
      }),
    ).rejects.toMatchObject({ name: 'SeamThrottledError', retryable: true })
  })

  it('waits its instance part of the rate when the table does not answer', async () => {
    const slept: number[] = []
    await takeSharedSlot(
      {
        takeRateSlot: async () => {
          throw new Error('DynamoDB unreachable')
        },
      },
      5,
      {
        instances: 10,
        sleep: async (ms) => {
          slept.push(ms)
        },
      },
    )
    // 5 requests/s over 10 instances: one per 2 s each, as the per-instance split would pace it.
    expect(slept).toEqual([2000])
  })
})
