#!/usr/bin/env node
// The CDK app entry: the only place that reads context or the environment.
import { App, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { CONTEXT_KEYS, ConfigError, type ContextKey, parseConfig } from './config.js'
import { NO_ALARM_TOPIC_WARNING } from './constructs/alarms.js'
import { UserIdentityLifecycleStack } from './stack.js'

const app = new App()

let config: ReturnType<typeof parseConfig>
try {
  config = parseConfig(
    Object.fromEntries(CONTEXT_KEYS.map((key) => [key, app.node.tryGetContext(key)])) as Partial<
      Record<ContextKey, unknown>
    >,
  )
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(1)
}

// The stack also adds it as a CDK warning (listed by synth under its construct); say it plainly too.
if (!config.alarmEmail) console.warn(`WARNING: ${NO_ALARM_TOPIC_WARNING}`)

new UserIdentityLifecycleStack(app, `SeamUserIdentities-${config.stageName}`, {
  stageName: config.stageName,
  seamSecretName: config.seamSecretName,
  pollPolicy: config.pollPolicy,
  throttling: config.throttling,
  seamWebhooks: config.seamWebhooks,
  ...(config.alarmEmail ? { alarmEmail: config.alarmEmail } : {}),
  ...(config.bulkDeletionConcurrency === undefined
    ? {}
    : { bulkDeletionConcurrency: config.bulkDeletionConcurrency }),
  ...(config.seamConcurrency === undefined ? {} : { seamConcurrency: config.seamConcurrency }),
  ...(config.seamRequestsPerSecond === undefined
    ? {}
    : { seamRequestsPerSecond: config.seamRequestsPerSecond }),
  ...(config.seamApiConcurrency === undefined
    ? {}
    : { seamApiConcurrency: config.seamApiConcurrency }),
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
})

// AWS Solutions checks on every synth: an unacknowledged finding fails it. Acknowledgments, each with its
// reason, sit next to the resource they concern (infra/constructs/).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
