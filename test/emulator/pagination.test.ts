import { isSeamHttpInvalidInputError, type SeamHttp } from '@seamapi/http/connect'
import { schemas } from '@seamapi/types/connect'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { SeamEmulator } from '../../local/seam-emulator/index.js'
import { errorOf, parseWith, sdkFor, start } from './helpers.js'

let emulator: SeamEmulator
let seam: SeamHttp

beforeAll(async () => {
  emulator = await start({ pageSize: 2, deleteDelayMs: 0 })
  seam = sdkFor(emulator)
})
afterAll(() => emulator.close())
beforeEach(() => emulator.reset())

const fiveCredentials = () =>
  emulator.seed.identityGraph({ acsSystems: 1, credentialsPerUser: 5, phones: 0 })

describe('paginated lists (pageSize 2)', () => {
  it('acs/credentials/list: one page misses items; following the cursor finds them all', async () => {
    const graph = fiveCredentials()
    const firstPage = await seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })
    expect(firstPage).toHaveLength(2)

    const request = seam.acs.credentials.list({ user_identity_id: graph.userIdentityId })
    const response = await request.fetchResponse()
    // (The SDK's response type omits `pagination`; the OpenAPI spec has it.)
    const pagination = parseWith(
      schemas.pagination,
      (response as unknown as { pagination: unknown }).pagination,
    )
    expect(pagination.has_next_page).toBe(true)
    const nextUrl = new URL(pagination.next_page_url ?? '')
    expect(nextUrl.origin).toBe(emulator.url)
    expect(nextUrl.pathname).toBe('/acs/credentials/list')
    expect(nextUrl.searchParams.get('page_cursor')).toBe(pagination.next_page_cursor)
    expect(nextUrl.searchParams.get('user_identity_id')).toBe(graph.userIdentityId)

    const all = await seam.createPaginator(request).flattenToArray()
    expect(all.map((c) => c.acs_credential_id)).toEqual(graph.acsCredentialIds)
    const pages: number[] = []
    for await (const page of seam.createPaginator(
      seam.acs.credentials.list({ user_identity_id: graph.userIdentityId }),
    )) {
      pages.push(page.length)
    }
    expect(pages).toEqual([2, 2, 1])
  })

  it('acs/users/list and user_identities/list paginate the same way', async () => {
    const system = emulator.seed.acsSystem()
    const identities = [1, 2, 3].map(() => emulator.seed.userIdentity().user_identity_id)
    for (const id of identities)
      emulator.seed.acsUser({ acsSystemId: system.acs_system_id, userIdentityId: id })
    expect(await seam.acs.users.list({ acs_system_id: system.acs_system_id })).toHaveLength(2)
    const users = await seam
      .createPaginator(seam.acs.users.list({ acs_system_id: system.acs_system_id }))
      .flattenToArray()
    expect(users.map((u) => u.user_identity_id)).toEqual(identities)
    expect(await seam.userIdentities.list()).toHaveLength(2)
    const all = await seam.createPaginator(seam.userIdentities.list()).flattenToArray()
    expect(all.map((u) => u.user_identity_id)).toEqual(identities)
  })

  it('clamps limit to the page size and honours a smaller one', async () => {
    fiveCredentials()
    expect(await seam.acs.credentials.list({ limit: 100 })).toHaveLength(2)
    expect(await seam.acs.credentials.list({ limit: 1 })).toHaveLength(1)
  })

  it('does not skip items deleted between page reads (keyset cursor)', async () => {
    const graph = fiveCredentials()
    const [page1, pagination] = await seam
      .createPaginator(seam.acs.credentials.list({ user_identity_id: graph.userIdentityId }))
      .firstPage()
    // Deletion completes immediately in this suite (delay 0): delete what was read.
    for (const c of page1)
      await seam.acs.credentials.delete({ acs_credential_id: c.acs_credential_id })
    await new Promise((resolve) => setTimeout(resolve, 10))
    const rest = await seam.acs.credentials.list({
      user_identity_id: graph.userIdentityId,
      page_cursor: pagination.nextPageCursor,
    })
    expect(rest.map((c) => c.acs_credential_id)).toEqual(graph.acsCredentialIds.slice(2, 4))
  })

  it('rejects a page_cursor it did not issue', async () => {
    const error = await errorOf(seam.acs.credentials.list({ page_cursor: 'bm90LWEtY3Vyc29y' }))
    expect(isSeamHttpInvalidInputError(error)).toBe(true)
  })

  it('leaves the lists Seam does not paginate whole, without a pagination key', async () => {
    const graph = emulator.seed.identityGraph({
      clientSessions: 3,
      acsSystems: 3,
      phones: 3,
      enrollmentAutomations: 3,
    })
    const sessions = await seam.clientSessions.list({ user_identity_id: graph.userIdentityId })
    expect(sessions).toHaveLength(3)
    expect(await seam.phones.list({ owner_user_identity_id: graph.userIdentityId })).toHaveLength(3)
    expect(await seam.acs.systems.list()).toHaveLength(6)
    const { data } = await seam.client.get('/user_identities/enrollment_automations/list', {
      params: { user_identity_id: graph.userIdentityId },
    })
    expect(data.enrollment_automations).toHaveLength(3)
    expect(data).not.toHaveProperty('pagination')
    const response = await seam.clientSessions.list().fetchResponse()
    expect(response).not.toHaveProperty('pagination')
  })
})
