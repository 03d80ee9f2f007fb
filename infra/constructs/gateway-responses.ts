import { ResponseType, type RestApiBase } from 'aws-cdk-lib/aws-apigateway'

/**
 * API Gateway's own answers (unsigned or denied calls, unknown routes, throttling, bodies over its 10 MB
 * limit, integration timeouts) in the contract's error shape, so a client sees
 * {"error": {"type", "message", "request_id"}} whichever side refused it. The type is snake_case; the
 * message is API Gateway's.
 */
export const CONTRACT_GATEWAY_RESPONSES: readonly {
  id: string
  responseType: ResponseType
  type: string
}[] = [
  { id: 'AccessDenied', responseType: ResponseType.ACCESS_DENIED, type: 'access_denied' },
  {
    // Also what API Gateway answers for a route it does not have.
    id: 'MissingAuthenticationToken',
    responseType: ResponseType.MISSING_AUTHENTICATION_TOKEN,
    type: 'not_authenticated',
  },
  {
    id: 'InvalidSignature',
    responseType: ResponseType.INVALID_SIGNATURE,
    type: 'not_authenticated',
  },
  { id: 'ExpiredToken', responseType: ResponseType.EXPIRED_TOKEN, type: 'not_authenticated' },
  { id: 'Throttled', responseType: ResponseType.THROTTLED, type: 'throttled' },
  {
    id: 'RequestTooLarge',
    responseType: ResponseType.REQUEST_TOO_LARGE,
    type: 'payload_too_large',
  },
  {
    id: 'BadRequestParameters',
    responseType: ResponseType.BAD_REQUEST_PARAMETERS,
    type: 'invalid_input',
  },
  { id: 'BadRequestBody', responseType: ResponseType.BAD_REQUEST_BODY, type: 'invalid_input' },
  {
    id: 'IntegrationTimeout',
    responseType: ResponseType.INTEGRATION_TIMEOUT,
    type: 'request_timeout',
  },
  { id: 'Default4xx', responseType: ResponseType.DEFAULT_4XX, type: 'request_rejected' },
  { id: 'Default5xx', responseType: ResponseType.DEFAULT_5XX, type: 'gateway_error' },
]

export function addContractGatewayResponses(api: RestApiBase): void {
  for (const { id, responseType, type } of CONTRACT_GATEWAY_RESPONSES) {
    api.addGatewayResponse(`${id}Response`, {
      type: responseType,
      responseHeaders: { 'Content-Type': "'application/json'" },
      templates: {
        'application/json': `{"error":{"type":"${type}","message":$context.error.messageString,"request_id":"$context.requestId"}}`,
      },
    })
  }
}
