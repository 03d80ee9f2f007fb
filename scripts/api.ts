// `npm run api -- <METHOD> <path> [json]`: one SigV4-signed request to the deployed API; prints the
// status on stderr and the body on stdout (so `| jq` works). Exit 0 on 2xx/3xx, 1 on an error answer,
// 2 on a usage or configuration error.
import { parseArgs } from 'node:util'
import { ApiClientError, callApi } from './api-client.js'

const USAGE = `Usage: npm run api -- <METHOD> <path> [json] [--url URL] [--region REGION]
  Signs the request with SigV4 (service execute-api) using the standard AWS credential chain
  (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, SSO, roles).
  --url URL        the API's base URL, the stack output ApiUrl (default: $API_URL)
  --region REGION  default: the region in the URL, else $AWS_REGION
Examples:
  npm run api -- POST /user-identities '{"user_identity_key":"app-account-42","full_name":"Jane Doe"}'
  npm run api -- DELETE /user-identities/<user_identity_id>
  npm run api -- GET /deletions/<deletion_id>`

function usage(problem?: string): never {
  if (problem) console.error(problem)
  console.error(USAGE)
  process.exit(2)
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (error) {
    // An unknown or malformed flag: the usage, not a parser stack trace.
    return usage((error as Error).message)
  }
})()
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const [method, path, body, ...extra] = positionals
if (!method || !path || extra.length > 0) usage()
if (!/^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/i.test(method)) usage(`Unknown method ${method}`)
if (body !== undefined) {
  try {
    JSON.parse(body)
  } catch (error) {
    usage(`The body is not JSON: ${(error as Error).message}`)
  }
}
const baseUrl = values.url ?? process.env.API_URL
if (!baseUrl) usage('Set API_URL (or --url) to the stack output ApiUrl.')

try {
  const answer = await callApi({ method, baseUrl, path, body, region: values.region })
  console.error(`HTTP ${answer.status} ${answer.statusText}`)
  const location = answer.headers.get('location')
  if (location) console.error(`Location: ${location}`)
  if (answer.body) console.log(pretty(answer.body))
  process.exit(answer.status < 400 ? 0 : 1)
} catch (error) {
  if (error instanceof ApiClientError) usage(error.message)
  // The credential chain's errors say which sources it tried; the request's, where it went.
  const cause = (error as { cause?: { code?: string } }).cause?.code
  console.error(`The request failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`)
  process.exit(2)
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
