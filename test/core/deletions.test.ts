import { describe, expect, it } from 'vitest'
import {
  STAGE_NAMES,
  STATE_KINDS,
  stageOfState,
  stateName,
} from '../../functions/contract/workflow.js'
import {
  executionArnFor,
  executionName,
  isValidUserIdentityId,
  parseDeletionId,
  toDeletion,
} from '../../functions/core/deletions.js'
import { DELETION_STAGES } from '../../functions/core/stages.js'

const ID = '4d5a1c3e-58b0-4c1c-9a1e-6f1f3f0a9b21'

describe('deletion ids', () => {
  it('round-trips an execution name', () => {
    expect(parseDeletionId(executionName(ID, 3))).toEqual({ userIdentityId: ID, attempt: 3 })
  })

  it('fits Step Functions execution names (80 chars of [A-Za-z0-9-_])', () => {
    const name = executionName(ID, 9999)
    expect(name.length).toBeLessThanOrEqual(80)
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/)
  })

  it.each([
    '',
    '../etc',
    'a/b',
    'a'.repeat(65),
    'id with space',
    '%2F',
    'not-a-uuid',
    'abc_def',
    `${ID}x`,
  ])('rejects %j as a user identity id', (id) => {
    expect(isValidUserIdentityId(id)).toBe(false)
  })

  it.each(['x', `${ID}--0`, `${ID}-1`, `${ID}--1/2`, '--1'])(
    'rejects %j as a deletion id',
    (id) => {
      expect(parseDeletionId(id)).toBeUndefined()
    },
  )

  it('turns a state machine ARN into an execution ARN', () => {
    expect(
      executionArnFor('arn:aws:states:us-east-1:123456789012:stateMachine:Deletion', 'x--1'),
    ).toBe('arn:aws:states:us-east-1:123456789012:execution:Deletion:x--1')
  })
})

describe('toDeletion', () => {
  const base = { name: executionName(ID, 1), startDate: new Date('2026-01-01T00:00:00Z') }

  it('reports a running deletion with the stage of the last state entered', () => {
    const deletion = toDeletion({ ...base, status: 'RUNNING' }, 'Wait for ACS users')
    expect(deletion).toEqual({
      deletion_id: `${ID}--1`,
      user_identity_id: ID,
      status: 'RUNNING',
      stage: 'acs_users',
      started_at: '2026-01-01T00:00:00.000Z',
    })
  })

  it('reports the summary of a succeeded deletion', () => {
    const summary = {
      client_sessions_deleted: 2,
      acs_credentials_deleted: 6,
      acs_users_deleted: 2,
      enrollment_automations_deleted: 1,
      phones_deactivated: 2,
    }
    const deletion = toDeletion(
      {
        ...base,
        status: 'SUCCEEDED',
        stopDate: new Date('2026-01-01T00:01:00Z'),
        output: JSON.stringify({ user_identity_id: ID, summary }),
      },
      'Deleted',
    )
    expect(deletion.stage).toBe('user_identity')
    expect(deletion.summary).toEqual(summary)
    expect(deletion.stopped_at).toBe('2026-01-01T00:01:00.000Z')
  })

  it('passes a stuck stage cause on as deletion_stuck', () => {
    const cause = 'Stage acs_credentials: Seam has not confirmed ... cred-1'
    const deletion = toDeletion(
      { ...base, status: 'FAILED', error: 'StageStuck', cause },
      'ACS credentials stuck',
    )
    expect(deletion.error).toEqual({ type: 'deletion_stuck', message: cause })
    expect(deletion.stage).toBe('acs_credentials')
  })

  it('says what to do after a timeout', () => {
    const deletion = toDeletion({ ...base, status: 'TIMED_OUT' }, 'Check phones')
    expect(deletion.error?.type).toBe('deletion_timed_out')
    expect(deletion.error?.message).toMatch(/phones.*DELETE/)
  })
})

describe('state names', () => {
  it('are unique and map back to their stage, for every stage and kind, the identity and Deleted included', () => {
    const all = [
      ...STAGE_NAMES.flatMap((stage) => STATE_KINDS.map((kind) => stateName(stage, kind))),
      'Deleted',
    ]
    expect(new Set(all).size).toBe(all.length)
    for (const stage of STAGE_NAMES) {
      for (const kind of STATE_KINDS) expect(stageOfState(stateName(stage, kind))).toBe(stage)
    }
    for (const name of ['Delete user identity', 'Wait for user identity', 'Check user identity']) {
      expect(stageOfState(name)).toBe('user_identity')
    }
    expect(stageOfState('Deleted')).toBe('user_identity')
    expect(stageOfState('nonsense')).toBeUndefined()
  })

  it('cover exactly the stages of the table', () => {
    expect([...STAGE_NAMES].sort()).toEqual(DELETION_STAGES.map((s) => s.name).sort())
  })
})
