import { invalidInput } from './errors.js'
import type { SeamBehaviours } from './types.js'

/**
 * What Seam leaves undocumented, as named options with both readings: the first value of each is
 * the emulator's default, the second the other reading. Code under test must be correct under every
 * combination (README.md, "Undocumented behaviours").
 */
export const BEHAVIOUR_READINGS = {
  repeatDelete: ['ok', 'refused'],
  linkLinkedAcsUser: ['moves', 'refused'],
  deactivatedPhones: ['unlisted', 'listed'],
  enrollmentAutomationRoutes: ['present', 'gone'],
  duplicateCreateError: ['user_identity_already_exists', 'invalid_input'],
  emailUniqueness: ['case_insensitive', 'case_sensitive'],
  eventOrder: ['newest_first', 'oldest_first'],
  notFoundTypes: ['per_resource', 'generic'],
} as const satisfies {
  [K in keyof SeamBehaviours]: readonly [SeamBehaviours[K], SeamBehaviours[K]]
}

export type BehaviourName = keyof typeof BEHAVIOUR_READINGS

export const BEHAVIOUR_NAMES = Object.keys(BEHAVIOUR_READINGS) as BehaviourName[]

const reading = (index: 0 | 1): SeamBehaviours =>
  Object.freeze(
    Object.fromEntries(BEHAVIOUR_NAMES.map((name) => [name, BEHAVIOUR_READINGS[name][index]])),
  ) as unknown as SeamBehaviours

export const DEFAULT_BEHAVIOURS: SeamBehaviours = reading(0)

/** Every behaviour at its other reading (the emulator's default for none). */
export const OTHER_READINGS: SeamBehaviours = reading(1)

/** `base` with the named behaviours changed; an unknown name or reading is 400 invalid_input. */
export const resolveBehaviours = (
  changes: Readonly<Record<string, unknown>> = {},
  base: SeamBehaviours = DEFAULT_BEHAVIOURS,
): SeamBehaviours => {
  const next: Record<string, unknown> = { ...base }
  for (const [name, value] of Object.entries(changes)) {
    if (!Object.hasOwn(BEHAVIOUR_READINGS, name)) {
      throw invalidInput(
        `Unknown emulator behaviour ${name}; known: ${BEHAVIOUR_NAMES.join(', ')}`,
        name,
      )
    }
    const readings: readonly string[] = BEHAVIOUR_READINGS[name as BehaviourName]
    if (typeof value !== 'string' || !readings.includes(value)) {
      throw invalidInput(`${name} must be ${readings.join(' or ')}`, name)
    }
    next[name] = value
  }
  return next as unknown as SeamBehaviours
}
