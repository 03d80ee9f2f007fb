/**
 * The one module in this project that talks to Seam. Import from here only.
 */
export {
  createSeamClient,
  DEFAULT_SEAM_ENDPOINT,
  type SeamClientConfig,
  type SeamClientOptions,
  type SeamRequestInfo,
  type SeamRetryInfo,
} from './client.js'
export {
  parseApiKeySecret,
  resetSeamClientCache,
  resolveSeamCredentials,
  SEAM_API_KEY_ENV,
  SEAM_API_KEY_SECRET_NAME_ENV,
  SEAM_ENDPOINT_ENV,
  type SeamCredentials,
  seamClientFromEnvironment,
} from './credentials.js'
export {
  isNotFound,
  isSeamError,
  isTransient,
  SEAM_ERROR_NAMES,
  SEAM_TRANSIENT_ERROR_NAMES,
  SeamConfigurationError,
  SeamError,
  type SeamErrorName,
  SeamInvalidResponseError,
  SeamNotFoundError,
  SeamRequestError,
  SeamThrottledError,
  SeamUnauthorizedError,
  SeamUnavailableError,
} from './errors.js'
export { createSeamPacer, type SeamPacer, withSeamPacer } from './pacer.js'
export { DEFAULT_MAX_PAGES } from './pagination.js'
export {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type FailureKind,
  type RetryPolicy,
  withSeamDeadline,
} from './retry-policy.js'
export type * from './types.js'
