import type { Pagination } from '@seamapi/types/connect'
import { invalidInput } from './errors.js'
import type { Params } from './params.js'

/**
 * Keyset pagination over items in insertion order: the cursor names the last item returned, so
 * deleting items between page reads never makes a later page skip anything. `pageSize` is the
 * default and the maximum page size (a larger `limit` is clamped), so clients must follow
 * next_page_cursor to see everything.
 */
export const paginate = <T extends { seq: number }>(
  items: readonly T[],
  params: Params,
  pageSize: number,
  pageUrl: (cursor: string) => string,
): { page: T[]; pagination: Pagination } => {
  const limit = Math.min(params.optionalNumber('limit', { positive: true }) ?? pageSize, pageSize)
  const size = Math.max(1, Math.floor(limit))
  const cursor = params.optionalString('page_cursor')
  const after = cursor === undefined ? 0 : decodeCursor(cursor)
  const sorted = [...items].sort((a, b) => a.seq - b.seq).filter((item) => item.seq > after)
  const page = sorted.slice(0, size)
  const last = page[page.length - 1]
  const hasNextPage = sorted.length > page.length && last !== undefined
  const next = hasNextPage ? encodeCursor(last.seq) : null
  return {
    page,
    pagination: {
      has_next_page: hasNextPage,
      next_page_cursor: next,
      next_page_url: next === null ? null : pageUrl(next),
    },
  }
}

const encodeCursor = (seq: number): string =>
  Buffer.from(JSON.stringify({ after: seq })).toString('base64')

const decodeCursor = (cursor: string): number => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'))
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'after' in parsed &&
      typeof parsed.after === 'number'
    ) {
      return parsed.after
    }
  } catch {
    // fall through to the invalid_input below
  }
  throw invalidInput('page_cursor is not a cursor returned by this endpoint', 'page_cursor')
}
