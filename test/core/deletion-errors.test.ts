/**
 * What a caller reads of a failed deletion: the state machine's Fail Cause quotes the failed Lambda's
 * error JSON, stack trace included; the API passes on the message and never the trace.
 */
import { describe, expect, it } from 'vitest'
import { toDeletion, withoutLambdaErrorJson } from '../../functions/core/deletions.js'

const lambdaError = (errorType: string, errorMessage: string) =>
  JSON.stringify({
    errorType,
    errorMessage,
    trace: [
      `${errorType}: ${errorMessage}`,
      '    at deleteStage (file:///var/task/index.mjs:3:1201)',
      '    at async Runtime.handler (file:///var/task/index.mjs:3:9876)',
    ],
  })

const failCause = (error: string, cause: string) =>
  `Stage acs_credentials failed for user identity 0b0d2c1e-8a44-4f43-9bd5-0f6f3b0b7d1e with ${error}: ${cause}. Fix the cause (see the log of the task), then DELETE the user identity again: finished stages are quick no-ops.`

describe('withoutLambdaErrorJson', () => {
  it('replaces the quoted Lambda error with its message', () => {
    const text = failCause(
      'StageStuck',
      lambdaError('StageStuck', 'acs_credentials still pending after 600 s: 1 of 6 (cred-1 {x}).'),
    )
    expect(withoutLambdaErrorJson(text)).toBe(
      failCause('StageStuck', 'acs_credentials still pending after 600 s: 1 of 6 (cred-1 {x})'),
    )
  })

  it('leaves text without an error object alone, braces and all', () => {
    for (const text of [
      '',
      'plain cause',
      'a {brace} and {"other": 1}',
      'x {"errorType": bad} y',
    ]) {
      expect(withoutLambdaErrorJson(text)).toBe(text)
    }
  })

  it('keeps the message of an error cut short, and drops its trace', () => {
    const whole = lambdaError('StageStuck', 'acs_users still pending: a "quoted" id.')
    const cut = whole.slice(0, whole.indexOf('at deleteStage') + 5)
    expect(withoutLambdaErrorJson(`Stage acs_users failed with StageStuck: ${cut}`)).toBe(
      'Stage acs_users failed with StageStuck: acs_users still pending: a "quoted" id',
    )
  })

  it('falls back to the errorType when there is no errorMessage', () => {
    expect(withoutLambdaErrorJson('failed: {"errorType":"Runtime.ExitError","trace":[]}.')).toBe(
      'failed: Runtime.ExitError.',
    )
  })

  it('reads a hostile 32 KB cause in one pass', () => {
    // No error object in it, only things that start like one: left as it is (the old scan took 43 s).
    const hostile = `{"errorType":"${'}'.repeat(20)}`.repeat(900)
    const braces = '{"errorMessage":"a"}'.repeat(1600)
    expect(withoutLambdaErrorJson(hostile)).toBe(hostile)
    expect(withoutLambdaErrorJson(braces)).toBe('a'.repeat(1600))
  })

  it('cleans every error object in the text', () => {
    const text = `first ${lambdaError('A', 'one')} then ${lambdaError('B', 'two')} end`
    expect(withoutLambdaErrorJson(text)).toBe('first one then two end')
  })
})

describe('toDeletion of a failed execution', () => {
  const base = {
    name: '0b0d2c1e-8a44-4f43-9bd5-0f6f3b0b7d1e--1',
    startDate: new Date('2026-11-27T07:00:00Z'),
    stopDate: new Date('2026-11-27T07:10:00Z'),
    input: '{"user_identity_id":"0b0d2c1e-8a44-4f43-9bd5-0f6f3b0b7d1e"}',
  }

  it('gives the message of a permanent Seam error, no stack trace', () => {
    const deletion = toDeletion(
      {
        ...base,
        status: 'FAILED',
        error: 'SeamUnauthorizedError',
        cause: failCause(
          'SeamUnauthorizedError',
          lambdaError(
            'SeamUnauthorizedError',
            'Seam answered 401 unauthorized to GET /phones/list.',
          ),
        ),
      },
      'Explain acs_credentials failure',
    )
    expect(deletion.error?.type).toBe('deletion_failed')
    expect(deletion.error?.message).toContain('401 unauthorized to GET /phones/list')
    expect(deletion.error?.message).not.toMatch(/trace|errorType|at .+:\d+:\d+|index\.mjs/)
  })
})
