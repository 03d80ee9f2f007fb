/**
 * The one Powertools module every Lambda shares. Log ids, never secrets, email addresses or phone
 * numbers: the logger below is handed ids only by convention, and a test scans captured logs for PII.
 *
 * Metrics go out as CloudWatch embedded metric format (EMF) lines, into the namespace the stack sets in
 * POWERTOOLS_METRICS_NAMESPACE; what is recorded is in metrics.ts. Outside Lambda (`npm start`, tests,
 * the bench) they are off unless POWERTOOLS_METRICS_DISABLED=false: an EMF line means nothing there.
 */
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'

/** The `service` of every log line and the default dimension of every metric. */
export const SERVICE_NAME = 'seam-user-identities'

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
})

process.env.POWERTOOLS_METRICS_DISABLED ??= process.env.AWS_LAMBDA_FUNCTION_NAME ? 'false' : 'true'

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SeamUserIdentities',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
})
