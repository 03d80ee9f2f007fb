/**
 * The contract of the service, in one place: the HTTP API (http.ts) and its generated OpenAPI document
 * (openapi.ts). The workflow's state document belongs here too: re-export its module below.
 */
export * from './http.js'
export * from './openapi.js'
