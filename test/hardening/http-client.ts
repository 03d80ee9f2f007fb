/**
 * A raw HTTP client for hostile-input tests: sends exactly the method, path, headers and bytes given
 * (no URL normalization, no default Content-Type, a new connection per request unless told otherwise),
 * which `fetch` would not.
 */
import { type Agent, request } from 'node:http'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface RawRequest {
  method: string
  /** Sent as it is: `..`, `%2F`, `%00` reach the server unchanged. */
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Reuse connections (keep-alive) through this agent; default a fresh connection per request. */
  agent?: Agent
}

export function rawRequest(base: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    let answered = false
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: req.headers ?? {},
        agent: req.agent ?? false,
      },
      (res) => {
        answered = true
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    // A server may answer (413) and close before it has read an oversized body: the write then fails
    // after the answer arrived, which is not the request failing.
    outgoing.on('error', (error) => {
      if (!answered) reject(error)
    })
    if (req.body !== undefined) outgoing.write(req.body)
    outgoing.end()
  })
}
