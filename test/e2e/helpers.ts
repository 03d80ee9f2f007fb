/** HTTP helpers for end-to-end tests against an in-process local runtime. */
import { expect } from 'vitest'
import type { Deletion } from '../../functions/core/deletions.js'

export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : {} }
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
