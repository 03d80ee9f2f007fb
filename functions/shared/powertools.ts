/**
 * The one Powertools module every Lambda shares. Log ids, never secrets, email addresses or phone
 * numbers: the logger below is handed ids only by convention, and a test scans captured logs for PII.
 */
import { Logger } from '@aws-lambda-powertools/logger'

export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'seam-user-identities',
})
