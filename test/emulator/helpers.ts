import { SeamHttp } from '@seamapi/http/connect'
import { openapi } from '@seamapi/types/connect'
import { expect } from 'vitest'
import {
  type SeamEmulator,
  type SeamEmulatorOptions,
  startSeamEmulator,
} from '../../local/seam-emulator/index.js'

/** The official SDK pointed at the emulator, without client-side retries. */
export const sdkFor = (emulator: SeamEmulator): SeamHttp =>
  SeamHttp.fromApiKey(emulator.apiKey, {
    endpoint: emulator.url,
    axiosRetryOptions: { retries: 0 },
  })

export const start = (options: SeamEmulatorOptions = {}): Promise<SeamEmulator> =>
  startSeamEmulator({ deleteDelayMs: 30, ...options })

/**
 * A schema of @seamapi/types, as far as these helpers use it. @seamapi/types builds its schemas with its
 * own zod 3 (local/seam-types), not this project's zod 4, so they are described by shape here.
 */
interface SeamSchema<Out> {
  safeParse(
    value: unknown,
  ): { success: true; data: Out } | { success: false; error: { issues: unknown[] } }
  readonly _def: unknown
}

/** What shapeOf reads of a zod 3 object or discriminated union. */
interface ZodObjectLike {
  readonly shape: Record<string, { readonly value?: unknown }>
}
interface ZodDefLike {
  readonly typeName?: string
  readonly options?: ZodObjectLike[]
  readonly discriminator?: string
}

/**
 * Parses with the @seamapi/types schema and also rejects top-level fields the schema does not
 * name (zod objects strip unknown keys silently).
 */
export const parseWith = <Out>(schema: SeamSchema<Out>, value: unknown): Out => {
  const result = schema.safeParse(value)
  if (!result.success) {
    throw new Error(`schema mismatch: ${JSON.stringify(result.error.issues, null, 2)}`)
  }
  const shape = shapeOf(schema, value)
  if (shape && typeof value === 'object' && value !== null) {
    const unknown = Object.keys(value).filter((key) => !(key in shape))
    expect(unknown, 'fields the schema does not define').toEqual([])
  }
  return result.data
}

const shapeOf = (
  schema: SeamSchema<unknown>,
  value: unknown,
): Record<string, unknown> | undefined => {
  const def = schema._def as ZodDefLike
  if (def.typeName === 'ZodObject') return (schema as unknown as ZodObjectLike).shape
  const { discriminator, options } = def
  if (def.typeName === 'ZodDiscriminatedUnion' && discriminator && options) {
    const tag = (value as Record<string, unknown>)[discriminator]
    return options.find((o) => o.shape[discriminator]?.value === tag)?.shape
  }
  return undefined
}

interface JsonSchema {
  type?: string
  format?: string
  nullable?: boolean
  required?: string[]
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  enum?: unknown[]
}

/**
 * Checks a value against an OpenAPI component schema of @seamapi/types (for resources that have
 * no zod schema: enrollment automations, phones). Supports the subset those schemas use.
 */
export const expectOpenApiSchema = (component: string, value: unknown): void => {
  const spec = openapi as unknown as { components: { schemas: Record<string, JsonSchema> } }
  const schemas = spec.components.schemas
  const schema = schemas[component]
  if (!schema) throw new Error(`no OpenAPI schema ${component}`)
  const problems: string[] = []
  check(schema, value, component, problems)
  expect(problems).toEqual([])
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const check = (schema: JsonSchema, value: unknown, at: string, problems: string[]): void => {
  if (value === null) {
    if (!schema.nullable) problems.push(`${at}: null not allowed`)
    return
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: not in enum`)
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${at}: expected object`)
        return
      }
      const record = value as Record<string, unknown>
      for (const key of schema.required ?? []) {
        if (!(key in record)) problems.push(`${at}.${key}: required`)
      }
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties?.[key]
        // Like parseWith: unknown fields are an error at the top level; OpenAPI allows them below.
        if (property) check(property, item, `${at}.${key}`, problems)
        else if (!at.includes('.')) problems.push(`${at}.${key}: not in the schema`)
      }
      return
    }
    case 'array':
      if (!Array.isArray(value)) {
        problems.push(`${at}: expected array`)
      } else if (schema.items) {
        for (const [i, item] of value.entries()) check(schema.items, item, `${at}[${i}]`, problems)
      }
      return
    case 'string':
      if (typeof value !== 'string') problems.push(`${at}: expected string`)
      else if (schema.format === 'uuid' && !uuid.test(value)) problems.push(`${at}: not a uuid`)
      else if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) {
        problems.push(`${at}: not a date-time`)
      }
      return
    case 'boolean':
    case 'number':
      if (typeof value !== schema.type) problems.push(`${at}: expected ${schema.type}`)
      return
    default:
  }
}

/** Polls `probe` until it returns true (every 5 ms, up to `timeoutMs`). */
export const waitFor = async (probe: () => boolean | Promise<boolean>, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** Captures the error a promise rejects with (fails when it resolves). */
export const errorOf = async (promise: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await promise
  } catch (error) {
    return error as Record<string, unknown>
  }
  throw new Error('expected the call to fail')
}
