/** A tiny Seam stand-in on 127.0.0.1 (port 0) whose answers each test scripts. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  pathname: string
  query: Record<string, string>
  body: unknown
  authorization: string | undefined
}

export type StubHandler = (request: RecordedRequest, res: ServerResponse, index: number) => unknown

export interface StubServer {
  url: string
  port: number
  requests: RecordedRequest[]
  close(): Promise<void>
}

export async function startStubServer(handler: StubHandler, port = 0): Promise<StubServer> {
  const requests: RecordedRequest[] = []
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    url.searchParams.delete('_strict') // the SDK's query serializer adds _strict=true to every GET
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      pathname: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text ? JSON.parse(text) : undefined,
      authorization: req.headers.authorization,
    }
    requests.push(recorded)
    await handler(recorded, res, requests.length - 1)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const address = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

export function seamError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers = {},
): void {
  json(res, status, { error: { type, message } }, { 'seam-request-id': `req_${type}`, ...headers })
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Sleep that records its waits and returns at once. */
export function fakeSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = []
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms)
    },
  }
}

export const TEST_API_KEY = 'seam_test_key_do_not_log_123'
