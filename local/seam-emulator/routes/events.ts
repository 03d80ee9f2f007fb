import { invalidInput, SeamApiError } from '../errors.js'
import { parseDate } from '../params.js'
import type { EventRecord } from '../store.js'
import type { Route } from './types.js'

/** Seam documents a default of 500 and no maximum; the emulator also caps at 500. */
export const EVENTS_LIMIT = 500

/** Single-id filters: an event matches when it carries the id, or relates to it. */
const idFilters = [
  'access_code_id',
  'access_grant_id',
  'access_method_id',
  'acs_access_group_id',
  'acs_credential_id',
  'acs_encoder_id',
  'acs_entrance_id',
  'acs_system_id',
  'acs_user_id',
  'connect_webview_id',
  'connected_account_id',
  'customer_key',
  'device_id',
  'space_id',
  'user_identity_id',
] as const

/** Plural filters and the event field each matches. */
const idListFilters = {
  access_code_ids: 'access_code_id',
  access_grant_ids: 'access_grant_id',
  access_method_ids: 'access_method_id',
  acs_system_ids: 'acs_system_id',
  device_ids: 'device_id',
  event_ids: 'event_id',
  space_ids: 'space_id',
} as const

let eventTypes: Promise<ReadonlySet<string>> | undefined

/** Seam's event types, read once from @seamapi/types (loaded lazily: it is a large module). */
export const knownEventTypes = (): Promise<ReadonlySet<string>> => {
  eventTypes ??= import('@seamapi/types/connect').then(
    ({ schemas }) => new Set(schemas.seam_event.options.map((o) => o.shape.event_type.value)),
  )
  return eventTypes
}

const fieldOf = (record: EventRecord, name: string): unknown =>
  record.related[name] ?? (record.event as unknown as Record<string, unknown>)[name]

export const eventRoutes: Route[] = [
  {
    path: '/events/list',
    methods: ['GET', 'POST'],
    handle: async ({ params, store }) => {
      const sinceGiven = params.has('since')
      const betweenGiven = params.has('between')
      if (sinceGiven === betweenGiven) {
        throw invalidInput(
          sinceGiven
            ? 'Cannot specify both since and between'
            : 'Must specify either since or between',
          sinceGiven ? 'between' : 'since',
        )
      }
      let lower: number
      let upper = Number.POSITIVE_INFINITY
      if (sinceGiven) {
        lower = parseDate(params.raw.since, 'since')
      } else {
        const between = params.optionalStringArray('between') ?? []
        if (between.length !== 2) {
          throw invalidInput('between must hold exactly two timestamps', 'between')
        }
        lower = parseDate(between[0], 'between')
        upper = parseDate(between[1], 'between')
      }

      const eventType = params.optionalString('event_type')
      const eventTypesParam = params.optionalStringArray('event_types')
      const known = await knownEventTypes()
      for (const [name, value] of [
        ['event_type', eventType === undefined ? [] : [eventType]],
        ['event_types', eventTypesParam ?? []],
      ] as const) {
        for (const type of value) {
          if (!known.has(type)) throw invalidInput(`${name}: unknown event type ${type}`, name)
        }
      }

      const single = idFilters.flatMap((name) => {
        const value = params.optionalString(name)
        return value === undefined ? [] : [[name, value] as const]
      })
      const lists = Object.entries(idListFilters).flatMap(([name, field]) => {
        const values = params.optionalStringArray(name)
        return values === undefined ? [] : [[field, new Set(values)] as const]
      })
      const limit = Math.floor(
        Math.min(params.optionalNumber('limit', { positive: true }) ?? EVENTS_LIMIT, EVENTS_LIMIT),
      )
      const offset = params.optionalNumber('unstable_offset') ?? 0
      if (offset < 0) throw invalidInput('unstable_offset must be >= 0', 'unstable_offset')

      const matching = store.events
        .filter(
          (r) =>
            r.createdAtMs > lower &&
            r.createdAtMs < upper &&
            (eventType === undefined || r.event.event_type === eventType) &&
            (eventTypesParam === undefined || eventTypesParam.includes(r.event.event_type)) &&
            single.every(([name, value]) => fieldOf(r, name) === value) &&
            lists.every(([field, values]) => values.has(String(fieldOf(r, field)))),
        )
        // Newest first by default; Seam documents no order (behaviour eventOrder).
        .sort((a, b) =>
          store.settings.behaviours.eventOrder === 'newest_first' ? b.seq - a.seq : a.seq - b.seq,
        )
      return { events: matching.slice(offset, offset + Math.max(1, limit)).map((r) => r.event) }
    },
  },
  {
    path: '/events/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => {
      const id = params.requiredUuid('event_id')
      const record = store.events.find((r) => r.event.event_id === id)
      if (!record) throw new SeamApiError(404, 'event_not_found', `Event not found: ${id}`)
      return { event: record.event }
    },
  },
]
