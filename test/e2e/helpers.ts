/** HTTP helpers for end-to-end tests against an in-process local runtime. */
import type { HistoryEvent } from '@aws-sdk/client-sfn'
import { expect } from 'vitest'
import { type Deletion, executionArnFor } from '../../functions/core/deletions.js'
import type { LocalRuntime } from '../../local/runtime.js'
import {
  BEHAVIOUR_NAMES,
  DEFAULT_BEHAVIOURS,
  OTHER_READINGS,
  type SeamBehaviours,
} from '../../local/seam-emulator/index.js'

export interface Answer {
  status: number
  headers: Headers
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: a parsed JSON response body, asserted field by field
  body: any
}

/** One HTTP request to the local server; `body` is the parsed JSON answer (undefined if none or not JSON). */
export async function send(
  base: string,
  method: string,
  path: string,
  init: { body?: string | Uint8Array; contentType?: string } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    // A Uint8Array body goes out with no Content-Type at all; a string one as text/plain unless set.
    headers: init.contentType ? { 'Content-Type': init.contentType } : {},
    ...(init.body === undefined ? {} : { body: init.body }),
  })
  const text = await response.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: response.status, headers: response.headers, text, body }
}

/** A JSON request; `json` is the parsed answer ({} when empty). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const answer = await send(
    base,
    method,
    path,
    body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' },
  )
  return { status: answer.status, headers: answer.headers, json: answer.body ?? {} }
}

/** DELETE the identity, expecting 202, and return the deletion. */
export async function startDeletion(base: string, userIdentityId: string): Promise<Deletion> {
  const res = await call(base, 'DELETE', `/user-identities/${userIdentityId}`)
  expect(res.status, JSON.stringify(res.json)).toBe(202)
  const deletion = res.json.deletion as Deletion
  expect(res.headers.get('location')).toBe(`/deletions/${deletion.deletion_id}`)
  return deletion
}

/** Poll GET /deletions/{id} until it is no longer RUNNING. */
export async function waitForDeletion(
  base: string,
  deletionId: string,
  timeoutMs = 20_000,
): Promise<Deletion> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await call(base, 'GET', `/deletions/${deletionId}`)
    expect(res.status).toBe(200)
    const deletion = res.json.deletion as Deletion
    if (deletion.status !== 'RUNNING') return deletion
    if (Date.now() > deadline)
      throw new Error(`deletion ${deletionId} still RUNNING after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * The Seam routes the deletion's stage tasks call, but user_identities/get: faults limited to these hit
 * the workflow from its first call on and spare the DELETE route, which shares that route with the
 * identity's checks (and would rightly answer 503). The identity's delete is in the list.
 */
export const STAGE_SEAM_PATHS: readonly string[] = [
  '/client_sessions/list',
  '/client_sessions/delete',
  '/acs/credentials/list',
  '/acs/credentials/delete',
  '/acs/users/list',
  '/acs/users/delete',
  '/user_identities/enrollment_automations/list',
  '/user_identities/enrollment_automations/delete',
  '/phones/list',
  '/phones/deactivate',
  '/user_identities/delete',
  '/events/list',
]

/** Each task attempt of a deletion's execution, from its history: the state and how it ended. */
export async function taskAttempts(runtime: LocalRuntime, deletionId: string) {
  const executionArn = executionArnFor(runtime.stepFunctions.stateMachineArn, deletionId)
  const { events = [] } = await runtime.stepFunctions.getExecutionHistory({
    executionArn,
    maxResults: 1000,
  })
  const attempts: { state: string; outcome: string; error?: string }[] = []
  let state = ''
  for (const event of events as HistoryEvent[]) {
    if (event.type === 'TaskStateEntered') state = event.stateEnteredEventDetails?.name ?? ''
    if (event.type === 'TaskScheduled') attempts.push({ state, outcome: 'scheduled' })
    const last = attempts.at(-1)
    if (!last) continue
    if (event.type === 'TaskSucceeded') last.outcome = 'succeeded'
    if (event.type === 'TaskFailed') {
      last.outcome = 'failed'
      last.error = event.taskFailedEventDetails?.error ?? ''
    }
  }
  return attempts
}

/** A set of readings of Seam's undocumented behaviours, for describe.each. */
export interface ReadingSet {
  readonly name: string
  readonly behaviours: SeamBehaviours
}

/** The emulator's default readings, and every behaviour at its other reading at once. */
export const BOTH_READINGS: readonly ReadingSet[] = [
  { name: 'the readings the emulator assumes', behaviours: DEFAULT_BEHAVIOURS },
  { name: 'every undocumented behaviour at its other reading', behaviours: OTHER_READINGS },
]

/** BOTH_READINGS, and each behaviour alone at its other reading: the full matrix. */
export const READING_MATRIX: readonly ReadingSet[] = [
  ...BOTH_READINGS,
  ...BEHAVIOUR_NAMES.map((name) => ({
    name: `only ${name} ${OTHER_READINGS[name]}`,
    behaviours: { ...DEFAULT_BEHAVIOURS, [name]: OTHER_READINGS[name] },
  })),
]
