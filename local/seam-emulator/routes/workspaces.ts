import type { Route } from './types.js'

/** The workspace of the API key: `npm start` calls it once to check the endpoint and the key. */
export const workspaceRoutes: Route[] = [
  {
    path: '/workspaces/get',
    methods: ['GET', 'POST'],
    handle: ({ store }) => ({
      workspace: {
        workspace_id: store.workspaceId,
        name: 'Seam emulator',
        company_name: 'Seam emulator',
        is_sandbox: true,
        connect_webview_customization: {},
        is_suspended: false,
        connect_partner_name: null,
        is_publishable_key_auth_enabled: false,
        organization_id: null,
      },
    }),
  },
]
