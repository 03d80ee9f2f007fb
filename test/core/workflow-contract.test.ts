import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  caughtPath,
  type DeletionState,
  deletionStateSchema,
  executionInputSchema,
  INVALID_STAGE_TASK_INPUT,
  parseStageTaskEvent,
  type StageTaskEvent,
  statePath,
} from '../../functions/contract/workflow.js'
import { DEFAULT_POLL_POLICY } from '../../functions/core/poll.js'
import { createHandler } from '../../functions/deletion/stage-task.js'
import type { SeamClient } from '../../functions/seam/index.js'

const ID = '4d5a1c3e-58b0-4c1c-9a1e-6f1f3f0a9b21'

const progress = {
  started_at: '2026-01-01T00:00:00.000Z',
  deleted: 2,
  pending: [{ id: 'cred-1', acs_system_id: 'sys-1' }],
  pending_count: 1,
  checks: 0,
  wait_seconds: 2,
  checks_left: true,
}
const event: StageTaskEvent = {
  action: 'check',
  stage: 'acs_credentials',
  policy: DEFAULT_POLL_POLICY,
  state: { user_identity_id: ID, stages: { acs_credentials: progress } },
  task_entered_at: '2026-01-01T00:00:05.000Z',
}

describe('JSONPaths over the state', () => {
  it('are built from field names the compiler checks', () => {
    expect(statePath('stages', 'phones', 'wait_seconds')).toBe('$.stages.phones.wait_seconds')
    expect(statePath('user_identity_id')).toBe('$.user_identity_id')
    expect(caughtPath('error', 'Cause')).toBe('$.error.Cause')
    expectTypeOf(statePath('stages', 'acs_users', 'pending_count')).toBeString()
    expectTypeOf(statePath('seam_latency_seconds')).toBeString()
    // @ts-expect-error a field StageProgress does not have (a renamed field is the same error)
    statePath('stages', 'phones', 'wait_secs')
    // @ts-expect-error a stage that is not one
    statePath('stages', 'doors', 'wait_seconds')
    // @ts-expect-error a field of the state that does not exist
    statePath('stage')
    // @ts-expect-error the Catch's error is not in the state a task returns
    statePath('error', 'Cause')
  })

  it('type the state from its schema', () => {
    expectTypeOf<DeletionState['stages']>().toEqualTypeOf<
      NonNullable<DeletionState['stages']> | undefined
    >()
    expectTypeOf<NonNullable<DeletionState['stages']>['phones']>().toMatchTypeOf<
      { wait_seconds: number; checks_left: boolean } | undefined
    >()
  })
})

describe('the state document', () => {
  it('round-trips a task input through its schema unchanged', () => {
    expect(parseStageTaskEvent(structuredClone(event))).toEqual(event)
    expect(deletionStateSchema.parse(event.state)).toEqual(event.state)
  })

  it('accepts as execution input a UUID only', () => {
    expect(executionInputSchema.safeParse({ user_identity_id: ID }).success).toBe(true)
    expect(executionInputSchema.safeParse({ user_identity_id: '../x' }).success).toBe(false)
  })

  it('refuses a malformed task input with a permanent, named error naming the fields', () => {
    const malformed = {
      ...event,
      stage: 'doors',
      state: { user_identity_id: ID, stages: { acs_credentials: { ...progress, pending: 'x' } } },
    }
    let error: unknown
    try {
      parseStageTaskEvent(malformed)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe(INVALID_STAGE_TASK_INPUT)
    expect((error as Error).message).toContain('stage:')
    expect((error as Error).message).toContain('state.stages.acs_credentials.pending:')
  })
})

describe('the stage task', () => {
  it('fails a malformed state with InvalidStageTaskInput before calling Seam', async () => {
    let seamAsked = false
    const handler = createHandler({
      seam: async () => {
        seamAsked = true
        return {} as SeamClient
      },
      now: () => new Date(),
      timeScale: 1,
    })
    await expect(
      handler({ ...event, state: { stages: { acs_credentials: progress } } }),
    ).rejects.toMatchObject({
      name: INVALID_STAGE_TASK_INPUT,
      message: expect.stringContaining('state.user_identity_id'),
    })
    await expect(handler({ ...event, action: 'purge' })).rejects.toMatchObject({
      name: INVALID_STAGE_TASK_INPUT,
      message: expect.stringContaining('action'),
    })
    expect(seamAsked).toBe(false)
  })
})
