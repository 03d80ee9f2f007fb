import { renderEnrollmentAutomation } from '../resources.js'
import type { Route } from './types.js'

// Undocumented in Seam ("Will be removed.") and absent from the SDK since 2.0; still live routes.
export const enrollmentAutomationRoutes: Route[] = [
  {
    path: '/user_identities/enrollment_automations/list',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => {
      const userIdentityId = params.requiredUuid('user_identity_id')
      return {
        enrollment_automations: store
          .enrollmentAutomationsOf(userIdentityId)
          .map((a) => renderEnrollmentAutomation(store, a)),
      }
    },
  },
  {
    path: '/user_identities/enrollment_automations/get',
    methods: ['GET', 'POST'],
    handle: ({ params, store }) => ({
      enrollment_automation: renderEnrollmentAutomation(
        store,
        store.requireEnrollmentAutomation(params.requiredUuid('enrollment_automation_id')),
      ),
    }),
  },
  {
    path: '/user_identities/enrollment_automations/delete',
    methods: ['DELETE', 'POST'],
    handle: ({ params, store }) => {
      store.requestEnrollmentAutomationDeletion(params.requiredUuid('enrollment_automation_id'))
      return {}
    },
  },
]
