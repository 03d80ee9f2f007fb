/**
 * Hand-built API Gateway REST (v1) proxy events and Lambda contexts, as the local server and API
 * Gateway hand them to a handler.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda'

let counter = 0

export interface EventInit {
  method?: string
  path?: string
  body?: string | null
  headers?: Record<string, string>
  isBase64Encoded?: boolean
  requestId?: string
  pathParameters?: Record<string, string> | null
}

export function apiEvent(init: EventInit = {}): APIGatewayProxyEvent {
  counter++
  const method = init.method ?? 'POST'
  const path = init.path ?? '/user-identities'
  return {
    httpMethod: method,
    path,
    resource: path,
    body: init.body === undefined ? null : init.body,
    headers: init.headers ?? {},
    multiValueHeaders: {},
    isBase64Encoded: init.isBase64Encoded ?? false,
    pathParameters: init.pathParameters ?? null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: init.requestId ?? `test-request-${counter}`,
      httpMethod: method,
      path,
      resourcePath: path,
      stage: 'test',
      accountId: '123456789012',
      apiId: 'testapi',
      protocol: 'HTTP/1.1',
      requestTimeEpoch: Date.now(),
      resourceId: 'test',
      authorizer: null,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'vitest',
        userArn: null,
      },
    },
  }
}

/** A JSON POST with the right Content-Type. */
export function jsonEvent(body: unknown, init: EventInit = {}): APIGatewayProxyEvent {
  return apiEvent({
    ...init,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...init.headers },
  })
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
    memoryLimitInMB: '256',
    awsRequestId: `lambda-${counter}`,
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

/** The contract's error body, parsed; fails loudly when the shape is wrong. */
export function errorOf(body: string): {
  type: string
  message: string
  request_id: string
  [key: string]: unknown
} {
  const parsed = JSON.parse(body) as { error?: Record<string, unknown> }
  const error = parsed.error
  if (
    !error ||
    typeof error.type !== 'string' ||
    typeof error.message !== 'string' ||
    typeof error.request_id !== 'string'
  ) {
    throw new Error(`Not the contract's error shape: ${body}`)
  }
  return error as { type: string; message: string; request_id: string }
}
