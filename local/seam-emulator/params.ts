import { invalidInput } from './errors.js'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Names that must never become keys of a parameter object: as object keys they reach (or replace)
 * Object.prototype. A request naming one, at any depth, is refused.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

const refuseForbidden = (key: string, name: string): void => {
  if (FORBIDDEN_KEYS.has(key)) {
    throw invalidInput(`${name} is not an accepted parameter name`, name)
  }
}

/** A parameter object: no prototype, so no key of a request ever reads an inherited property. */
export const emptyParams = (): Record<string, unknown> =>
  Object.create(null) as Record<string, unknown>

/**
 * Parses a query string the way the SDK serializes one (@seamapi/url-search-params-serializer):
 * repeated keys are arrays, dotted keys are nested objects, `_strict` is a serializer marker.
 * Keys are plain data: every object made here has no prototype, and `__proto__`, `constructor` or
 * `prototype` as any segment of a key is 400 invalid_input.
 */
export const parseQuery = (search: URLSearchParams): Record<string, unknown> => {
  const result = emptyParams()
  for (const key of new Set(search.keys())) {
    if (key === '_strict') continue
    const path = key.split('.')
    for (const segment of path) refuseForbidden(segment, key)
    const values = search.getAll(key)
    const value: unknown = values.length > 1 ? values : values[0]
    let target = result
    for (const segment of path.slice(0, -1)) {
      const next = Object.hasOwn(target, segment) ? target[segment] : undefined
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
        target = next as Record<string, unknown>
      } else {
        const created = emptyParams()
        target[segment] = created
        target = created
      }
    }
    target[path[path.length - 1] ?? key] = value
  }
  return result
}

/**
 * The query string and the JSON body merged (the body wins) into one prototype-free object; a body key
 * `__proto__`, `constructor` or `prototype` is 400 invalid_input.
 */
export const mergeParams = (
  query: Record<string, unknown>,
  body: Record<string, unknown>,
): Record<string, unknown> => {
  const merged = emptyParams()
  for (const [key, value] of Object.entries(query)) merged[key] = value
  for (const [key, value] of Object.entries(body)) {
    refuseForbidden(key, key)
    merged[key] = value
  }
  return merged
}

/**
 * Typed access to request parameters (query string and JSON body merged). Every reader throws
 * Seam's 400 invalid_input naming the parameter. Values from a query string arrive as strings,
 * so numbers and booleans are coerced; an empty value means "not given".
 */
export class Params {
  constructor(readonly raw: Record<string, unknown>) {}

  /** The parameter's own value: never one inherited from a prototype. */
  read(name: string): unknown {
    return Object.hasOwn(this.raw, name) ? this.raw[name] : undefined
  }

  has(name: string): boolean {
    const value = this.read(name)
    return value !== undefined && value !== null && value !== ''
  }

  optionalString(name: string): string | undefined {
    const value = this.read(name)
    if (value === undefined || value === null || value === '') return undefined
    if (typeof value !== 'string') throw invalidInput(`${name} must be a string`, name)
    return value
  }

  requiredString(name: string): string {
    const value = this.optionalString(name)
    if (value === undefined) throw invalidInput(`${name} is required`, name)
    return value
  }

  optionalUuid(name: string): string | undefined {
    const value = this.optionalString(name)
    if (value !== undefined && !uuidPattern.test(value)) {
      throw invalidInput(`${name} must be a UUID`, name)
    }
    return value
  }

  requiredUuid(name: string): string {
    const value = this.optionalUuid(name)
    if (value === undefined) throw invalidInput(`${name} is required`, name)
    return value
  }

  optionalStringArray(name: string): string[] | undefined {
    const value = this.read(name)
    if (value === undefined || value === null) return undefined
    // The SDK serializes an empty array as `name=` in a query string.
    if (value === '') return []
    const list = Array.isArray(value) ? value : [value]
    if (!list.every((item): item is string => typeof item === 'string' && item !== '')) {
      throw invalidInput(`${name} must be an array of strings`, name)
    }
    return list
  }

  optionalUuidArray(name: string): string[] | undefined {
    const list = this.optionalStringArray(name)
    if (list?.some((item) => !uuidPattern.test(item))) {
      throw invalidInput(`${name} must be an array of UUIDs`, name)
    }
    return list
  }

  optionalNumber(name: string, { integer = false, positive = false } = {}): number | undefined {
    const value = this.read(name)
    if (value === undefined || value === null || value === '') return undefined
    const number = typeof value === 'string' ? Number(value) : value
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw invalidInput(`${name} must be a number`, name)
    }
    if (integer && !Number.isInteger(number)) {
      throw invalidInput(`${name} must be an integer`, name)
    }
    if (positive && number <= 0) throw invalidInput(`${name} must be greater than 0`, name)
    return number
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.read(name)
    if (value === undefined || value === null || value === '') return undefined
    if (value === true || value === 'true') return true
    if (value === false || value === 'false') return false
    throw invalidInput(`${name} must be a boolean`, name)
  }

  /** A date-time string; returns epoch milliseconds. */
  optionalDate(name: string): number | undefined {
    const value = this.optionalString(name)
    if (value === undefined) return undefined
    return parseDate(value, name)
  }
}

export const parseDate = (value: unknown, name: string): number => {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time)) throw invalidInput(`${name} must be a date-time string`, name)
  return time
}

export const isUuid = (value: string): boolean => uuidPattern.test(value)
