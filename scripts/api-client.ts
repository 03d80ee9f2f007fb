/**
 * A SigV4-signed call to the deployed API (IAM authorization on every route). The credentials come from
 * the AWS SDK's standard chain (environment, shared config and SSO profiles, web identity, container and
 * instance roles: fromNodeProviderChain); this module never reads or stores a credential itself. The
 * signing is @smithy/signature-v4's, the one the AWS SDK uses.
 */
import { createHash, createHmac } from 'node:crypto'
import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import { SignatureV4 } from '@smithy/signature-v4'

/** API Gateway's SigV4 service name. */
export const SERVICE = 'execute-api'

type SignerInit = ConstructorParameters<typeof SignatureV4>[0]
type Credentials = SignerInit['credentials']

export interface ApiCall {
  readonly method: string
  /** The API's base URL (the stack output ApiUrl), e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod/ */
  readonly baseUrl: string
  /** A route path, e.g. /user-identities/123 (query string allowed). */
  readonly path: string
  /** A JSON body (sent as is). */
  readonly body?: string | undefined
  /** Default: the region in the URL's host, else AWS_REGION / AWS_DEFAULT_REGION. */
  readonly region?: string | undefined
  /** Default: the AWS SDK's standard credential chain. */
  readonly credentials?: Credentials
  /** Default: global fetch. */
  readonly fetch?: typeof fetch
}

export interface ApiAnswer {
  readonly status: number
  readonly statusText: string
  readonly headers: Headers
  readonly body: string
}

/** Thrown for a call that cannot be made as asked; `message` says what to change. */
export class ApiClientError extends Error {
  override readonly name = 'ApiClientError'
}

export async function callApi(call: ApiCall): Promise<ApiAnswer> {
  const url = resolveUrl(call.baseUrl, call.path)
  const region = call.region ?? regionOf(url)
  const signer = new SignatureV4({
    credentials: call.credentials ?? fromNodeProviderChain(),
    region,
    service: SERVICE,
    sha256: Sha256,
  })
  const method = call.method.toUpperCase()
  const headers: Record<string, string> = { host: url.host, accept: 'application/json' }
  if (call.body !== undefined) headers['content-type'] = 'application/json'
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    ...(call.body !== undefined ? { body: call.body } : {}),
  })
  // fetch sets Host itself, to the same value that was signed.
  const { host: _host, ...sent } = signed.headers
  const response = await (call.fetch ?? fetch)(url, {
    method,
    headers: sent,
    ...(call.body !== undefined ? { body: call.body } : {}),
  })
  return {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    body: await response.text(),
  }
}

/** The base URL's path, then the route's: `…/prod/` + `/user-identities` → `…/prod/user-identities`. */
export function resolveUrl(baseUrl: string, path: string): URL {
  let base: URL
  try {
    base = new URL(baseUrl)
  } catch {
    throw new ApiClientError(
      `The API URL ${JSON.stringify(baseUrl)} is not a URL: set API_URL (or --url) to the stack output ApiUrl.`,
    )
  }
  if (!path.startsWith('/')) {
    throw new ApiClientError(`The path must start with "/", got ${JSON.stringify(path)}`)
  }
  return new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base)
}

/** The region of an execute-api host, else the environment's. */
export function regionOf(url: URL): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1]
  const region = fromHost ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
  if (!region) {
    throw new ApiClientError(
      `Cannot tell the AWS region of ${url.origin}: set AWS_REGION (or pass --region).`,
    )
  }
  return region
}

/** node:crypto as the hash @smithy/signature-v4 asks for (SHA-256, or HMAC-SHA-256 with a secret). */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>

  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh()
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data))
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }

  reset(): void {
    this.hash = this.fresh()
  }

  private fresh() {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', toBytes(this.secret))
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Uint8Array | string {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}
