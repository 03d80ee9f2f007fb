import { App } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { UserIdentityLifecycleStack } from '../../infra/stack.js'

describe('UserIdentityLifecycleStack', () => {
  it('synthesizes offline and references the Seam key secret by name', () => {
    const app = new App()
    const stack = new UserIdentityLifecycleStack(app, 'Test', {
      stageName: 'test',
      seamSecretName: 'seam/test/api-key',
    })
    const template = Template.fromStack(stack)
    const outputs = template.findOutputs('*')
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['SeamSecretName', 'StageName']))
    expect(JSON.stringify(outputs.StageName?.Value)).toContain('test')
  })
})
