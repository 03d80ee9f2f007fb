/**
 * Reads a paginated Seam list to its last page. Each page is fetched by the caller's `fetchPage`, which
 * goes through the retry policy on its own, so one throttled page is retried without starting over.
 *
 * The SDK's SeamPaginator is not used: it stops silently on a repeated cursor (returning a truncated
 * list as if complete) and has no page limit; a deletion must never believe it saw everything when it
 * did not.
 */
import { SeamError, SeamInvalidResponseError } from './errors.js'

/** 1000 pages of Seam's default 500 items: far beyond one identity's resources; a guard, not a limit. */
export const DEFAULT_MAX_PAGES = 1_000

export interface PageRequest {
  /** Undefined for the first page. */
  readonly pageCursor: string | undefined
  /** 1-based page number. */
  readonly page: number
}

/**
 * @param route "METHOD /path", for messages.
 * @param responseKey the key holding the items, e.g. "acs_users".
 * @param fetchPage returns the whole response body of one page.
 */
export async function readAllPages<T>(
  route: string,
  responseKey: string,
  fetchPage: (request: PageRequest) => Promise<unknown>,
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<T[]> {
  const items: T[] = []
  const seenCursors = new Set<string>()
  let pageCursor: string | undefined
  for (let page = 1; ; page++) {
    if (page > maxPages) {
      throw invalid(
        route,
        'seam_pagination_limit_exceeded',
        `Seam's ${route} still had more after ${maxPages} pages; refusing to read further. Narrow the filter or raise maxPages.`,
      )
    }
    const body = await fetchPage({ pageCursor, page })
    const { data, hasNextPage, nextPageCursor } = readPage<T>(body, route, responseKey)
    items.push(...data)
    if (!hasNextPage) return items
    if (nextPageCursor === null) {
      throw invalid(
        route,
        'seam_invalid_response',
        `Seam's ${route} said page ${page} has a next page but gave no next_page_cursor; the list cannot be read completely.`,
      )
    }
    if (seenCursors.has(nextPageCursor)) {
      throw invalid(
        route,
        'seam_pagination_cursor_repeated',
        `Seam's ${route} returned a next_page_cursor it had already returned (page ${page}); stopping instead of looping forever. Retry later.`,
      )
    }
    seenCursors.add(nextPageCursor)
    pageCursor = nextPageCursor
  }
}

function readPage<T>(
  body: unknown,
  route: string,
  responseKey: string,
): { data: T[]; hasNextPage: boolean; nextPageCursor: string | null } {
  const record = isRecord(body) ? body : undefined
  const data = record?.[responseKey]
  if (!Array.isArray(data)) {
    throw invalid(
      route,
      'seam_invalid_response',
      `Seam answered ${route} without a "${responseKey}" list. Check that SEAM_ENDPOINT points at the Seam API.`,
    )
  }
  const pagination = record?.pagination
  if (!isRecord(pagination)) {
    throw invalid(
      route,
      'seam_invalid_response',
      `Seam answered ${route} without a "pagination" object; the list cannot be read to its last page.`,
    )
  }
  const cursor = pagination.next_page_cursor
  return {
    data: data as T[],
    hasNextPage: pagination.has_next_page === true,
    nextPageCursor: typeof cursor === 'string' && cursor !== '' ? cursor : null,
  }
}

function invalid(route: string, type: string, message: string): SeamError {
  return new SeamError({ name: SeamInvalidResponseError, type, message, retryable: false, route })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
