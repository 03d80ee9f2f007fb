#!/usr/bin/env node
// The CDK app entry: the only place that reads context or the environment.
import { App } from 'aws-cdk-lib'
import { UserIdentityLifecycleStack } from './stack.js'

const app = new App()

const stageName = String(app.node.tryGetContext('stageName') ?? 'dev')
const seamSecretName = String(
  app.node.tryGetContext('seamSecretName') ?? `seam/${stageName}/api-key`,
)

new UserIdentityLifecycleStack(app, `SeamUserIdentities-${stageName}`, {
  stageName,
  seamSecretName,
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
})
