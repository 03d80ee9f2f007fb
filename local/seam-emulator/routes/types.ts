import type { Params } from '../params.js'
import type { Store } from '../store.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RouteContext {
  params: Params
  store: Store
  /** next_page_url for a page cursor of this request. */
  pageUrl(cursor: string): string
}

/** One Seam endpoint: the methods Seam accepts for it and the body it answers (without `ok`). */
export interface Route {
  path: string
  methods: readonly HttpMethod[]
  handle(ctx: RouteContext): Record<string, unknown> | Promise<Record<string, unknown>>
}

/** Case-insensitive partial match of `search` in any of the values, as Seam's `search` does. */
export const matchesSearch = (
  search: string | undefined,
  values: ReadonlyArray<string | null | undefined>,
): boolean => {
  if (search === undefined) return true
  const needle = search.toLowerCase()
  return values.some((value) => value?.toLowerCase().includes(needle) ?? false)
}

/** `created_before` filter. */
export const createdBefore = (before: number | undefined, createdAt: string): boolean =>
  before === undefined || Date.parse(createdAt) < before
