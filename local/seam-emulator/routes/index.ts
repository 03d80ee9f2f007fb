import { acsRoutes } from './acs.js'
import { clientSessionRoutes } from './client-sessions.js'
import { enrollmentAutomationRoutes } from './enrollment-automations.js'
import { eventRoutes } from './events.js'
import { phoneRoutes } from './phones.js'
import type { Route } from './types.js'
import { userIdentityRoutes } from './user-identities.js'
import { webhookRoutes } from './webhooks.js'
import { workspaceRoutes } from './workspaces.js'

export type { HttpMethod, Route, RouteContext } from './types.js'

/** Every Seam endpoint the emulator serves, by path. */
export const routes: ReadonlyMap<string, Route> = new Map(
  [
    ...userIdentityRoutes,
    ...enrollmentAutomationRoutes,
    ...clientSessionRoutes,
    ...acsRoutes,
    ...phoneRoutes,
    ...eventRoutes,
    ...workspaceRoutes,
    ...webhookRoutes,
  ].map((route) => [route.path, route]),
)
