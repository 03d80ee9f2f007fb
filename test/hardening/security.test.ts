/**
 * Security, checked on the synthesized template and on the running service:
 *   - every API method is IAM-authorized; the local server listens on 127.0.0.1 only;
 *   - least privilege: the API Lambdas may only start / describe / read the history of executions of THIS
 *     state machine; only the Lambdas that call Seam may read the Seam key secret; no wildcard action;
 *     a wildcard resource only where AWS allows nothing else (X-Ray, log delivery);
 *   - the Seam key is in no environment variable, no execution input, output or history, no log line;
 *     no email address or phone number is in any log line. The create and delete flows run here at
 *     DEBUG with every line written to stdout / stderr / console captured and scanned.
 */

import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { App, type CfnElement } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ROUTES } from '../../functions/api/routes.js'
import { executionArnFor } from '../../functions/core/deletions.js'
import { UserIdentityLifecycleStack } from '../../infra/stack.js'
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js'
import { type SeamEmulator, seededRandom } from '../../local/seam-emulator/index.js'
import { call, STAGE_SEAM_PATHS, startDeletion, waitForDeletion } from '../e2e/helpers.js'

// Hoisted above the imports by vitest, so before any handler module (and its logger) loads: log
// everything, as JSON lines.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG'
  process.env.POWERTOOLS_DEV = 'false'
})

// ---------------------------------------------------------------------------------------------------
// Log capture: every chunk any code writes, from the start of the runtime to the end of the flows.

const captured: string[] = []
function captureLogs(): void {
  for (const stream of [process.stdout, process.stderr]) {
    // Kept, not passed on: at DEBUG the flows would flood the test output.
    vi.spyOn(stream, 'write').mockImplementation(((
      chunk: string | Uint8Array,
      ...rest: unknown[]
    ) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
      callback?.()
      return true
    }) as typeof stream.write)
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      captured.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
    })
  }
}

let runtime: LocalRuntime
let seam: SeamEmulator

beforeAll(async () => {
  captureLogs()
  runtime = await startLocalRuntime({
    port: 0,
    // Seeded fault draws: the throttled deletions below meet the same 429s on every run.
    emulator: { pageSize: 2, deleteDelayMs: 100, random: seededRandom(5150) },
    waitScale: 0.02,
    // 6 s of real time at waitScale 0.02: throttled stages on a loaded machine stay well inside it.
    pollPolicy: { stageTimeoutSeconds: 300, maxChecks: 500 },
  })
  seam = runtime.emulator as SeamEmulator
})
afterAll(async () => {
  await runtime?.close()
  vi.restoreAllMocks()
})

// ---------------------------------------------------------------------------------------------------
// The template

const ENV = { account: '123456789012', region: 'us-east-1' }
const SECRET_NAME = 'seam/sec/api-key'

interface Statement {
  Effect: string
  Action: string | string[]
  Resource: unknown
}

function synthesize() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } })
  const stack = new UserIdentityLifecycleStack(app, 'Sec', {
    stageName: 'sec',
    seamSecretName: SECRET_NAME,
    env: ENV,
  })
  const template = Template.fromStack(stack)
  const json = template.toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>
  }
  const resources = json.Resources
  const logicalId = (fn: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(fn.node.defaultChild as CfnElement)
  const apiFunctions = Object.fromEntries(
    ROUTES.map((route) => [route.id, logicalId(stack.api.functions[route.id]?.function ?? fail())]),
  )
  // The deletion stages and the bulk deletion's task call Seam.
  const workflowFunctions = [...stack.deletion.functions, ...stack.bulk.functions].map((fn) =>
    logicalId(fn.function),
  )
  const stateMachine = stack.getLogicalId(
    stack.deletion.stateMachine.node.defaultChild as CfnElement,
  )

  /** Every Allow/Deny statement a function's role carries, from all of its policies. */
  const statementsOf = (functionId: string): Statement[] => {
    const fn = resources[functionId] ?? fail()
    const roleRef = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
    const role = resources[roleRef]
    expect(
      role?.Properties.ManagedPolicyArns,
      `${functionId} has no managed policy`,
    ).toBeUndefined()
    expect(role?.Properties.Policies, `${functionId} has no inline role policy`).toBeUndefined()
    return Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleRef }]))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
  }
  return {
    stack,
    template,
    resources,
    apiFunctions,
    workflowFunctions,
    stateMachine,
    statementsOf,
  }
}

function fail(): never {
  throw new Error('missing construct')
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action])
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])
/** Actions AWS documents with Resource "*" only. */
const RESOURCE_STAR_ONLY = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
])

describe('API authorization', () => {
  it('every method of the REST API is IAM-authorized (SigV4), one per route, no OPTIONS left open', () => {
    const { resources } = synthesize()
    const all = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method')
    // The one exception: Seam's webhook deliveries, authenticated by their Svix signature instead.
    const open = all.filter((m) => m.Properties.AuthorizationType === 'NONE')
    expect(open.map((m) => m.Properties.HttpMethod)).toEqual(['POST'])
    const webhookResource = ((open[0] ?? fail()).Properties.ResourceId as { Ref: string }).Ref
    expect(resources[webhookResource]?.Properties.PathPart).toBe('seam')
    const methods = all.filter((m) => !open.includes(m))
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(
      ROUTES.map((r) => r.method).sort(),
    )
    for (const method of methods) {
      expect(method.Properties.AuthorizationType).toBe('AWS_IAM')
      expect(method.Properties.ApiKeyRequired ?? false).toBe(false)
    }
  })

  it('the local server listens on 127.0.0.1 only', async () => {
    const url = new URL(runtime.url)
    expect(url.hostname).toBe('127.0.0.1')
    const port = Number(url.port)
    // The kernel's own table of listening sockets: every listener on this port is bound to 127.0.0.1.
    const listeners = listeningAddresses(port)
    if (listeners !== undefined) expect(listeners).toEqual(['127.0.0.1'])
    // And it cannot be reached through any other address of this machine.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === 'IPv4')
      .map((a) => a?.address as string)
    for (const address of others) {
      await expect(reachable(address, port), `reachable on ${address}:${port}`).resolves.toBe(false)
    }
    expect(listeners !== undefined || others.length > 0, 'something checked the binding').toBe(true)
  })
})

describe('least privilege (IAM policies in the template)', () => {
  it('no wildcard action anywhere, and a wildcard resource only for actions that allow nothing else', () => {
    const { resources } = synthesize()
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy')
    expect(policies.length).toBeGreaterThan(0)
    for (const policy of policies) {
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] })
        .Statement) {
        for (const action of actions(statement)) {
          expect(action, 'wildcard action').not.toContain('*')
        }
        if (resourcesOf(statement).includes('*')) {
          for (const action of actions(statement)) {
            expect(RESOURCE_STAR_ONLY.has(action), `${action} on Resource "*"`).toBe(true)
          }
        }
      }
    }
    // No managed policy, but on the CDK Provider framework's role (relaying the webhook registration):
    // AWSLambdaBasicExecutionRole, its logs only.
    const frameworkRoles = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .filter((r) => r.Properties.Handler === 'framework.onEvent')
      .map((r) => (r.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])
    expect(frameworkRoles).toHaveLength(1)
    for (const [id, role] of Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::IAM::Role',
    )) {
      if (frameworkRoles.includes(id)) {
        expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(
          'service-role/AWSLambdaBasicExecutionRole',
        )
        expect(role.Properties.ManagedPolicyArns).toHaveLength(1)
      } else expect(role.Properties.ManagedPolicyArns, id).toBeUndefined()
    }
  })

  it('the API Lambdas may only start / describe / read the history of executions of this state machine', () => {
    const { apiFunctions, stateMachine, statementsOf } = synthesize()
    const executionArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:states:${ENV.region}:${ENV.account}:execution:`,
          { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: stateMachine }] }] },
          ':*',
        ],
      ],
    }
    const statesGrants = (id: string) =>
      statementsOf(id)
        .filter((s) => actions(s).some((a) => a.startsWith('states:')))
        .map((s) => ({ actions: actions(s).sort(), resources: resourcesOf(s) }))
    expect(statesGrants(apiFunctions.StartDeletion ?? '')).toEqual([
      { actions: ['states:StartExecution'], resources: [{ Ref: stateMachine }] },
      {
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executionArn],
      },
    ])
    expect(statesGrants(apiFunctions.GetDeletion ?? '')).toEqual([
      {
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executionArn],
      },
    ])
    expect(statesGrants(apiFunctions.CreateUserIdentity ?? '')).toEqual([])
    // The create alone reaches the coordination table (its per-ACS-user leases), item by item.
    const { resources } = synthesize()
    const table = Object.keys(resources).find(
      (id) => resources[id]?.Type === 'AWS::DynamoDB::Table',
    )
    const tableGrants = (id: string) =>
      statementsOf(id)
        .filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')))
        .map((s) => ({ actions: actions(s).sort(), resources: resourcesOf(s) }))
    expect(tableGrants(apiFunctions.CreateUserIdentity ?? '')).toEqual([
      {
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        resources: [{ 'Fn::GetAtt': [table, 'Arn'] }],
      },
    ])
    // The bulk routes' grants: test/infra/bulk-workflow.test.ts. Every statement of an API Lambda: X-Ray,
    // its own logs, the Seam key, the state machines (Map Runs of the bulk one), the create's leases.
    // Nothing else.
    for (const id of Object.values(apiFunctions)) {
      for (const statement of statementsOf(id)) {
        for (const action of actions(statement)) {
          expect(action).toMatch(
            /^(xray:Put(TraceSegments|TelemetryRecords)|logs:(CreateLogStream|PutLogEvents)|secretsmanager:(GetSecretValue|DescribeSecret)|states:(StartExecution|DescribeExecution|GetExecutionHistory|ListMapRuns|DescribeMapRun)|dynamodb:(GetItem|PutItem|UpdateItem|BatchGetItem|DeleteItem))$/,
          )
          if (action.startsWith('dynamodb:')) expect(id).toBe(apiFunctions.CreateUserIdentity)
        }
      }
    }
  })

  it('only the Lambdas that call Seam may read the Seam key secret, and only that secret', () => {
    const { resources, apiFunctions, workflowFunctions, statementsOf, stack } = synthesize()
    const webhooks = stack.webhooks ?? fail()
    const idOf = (fn: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(fn.node.defaultChild as CfnElement)
    const callsSeam = new Set([
      ...ROUTES.filter((r) => r.callsSeam).map((r) => apiFunctions[r.id]),
      ...workflowFunctions,
      // The webhook registration (webhooks/create and delete).
      idOf(webhooks.registrationFunction.function),
    ])
    expect(callsSeam.has(apiFunctions.GetDeletion)).toBe(false)
    expect(callsSeam.has(idOf(webhooks.webhookFunction.function))).toBe(false)
    // Ours: not the CDK Provider framework's function (it only invokes the registration function).
    const allFunctions = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .filter(([, r]) => r.Properties.Handler !== 'framework.onEvent')
      .map(([id]) => id)
    // The webhook's signing secret is another secret: written by the registration, read by the
    // webhook function, nothing else (test/infra/webhooks-stack.test.ts).
    const webhookSecret = { Ref: idOf(webhooks.webhookSecret as never) }
    const onWebhookSecret = (s: Statement) =>
      JSON.stringify(s.Resource) === JSON.stringify(webhookSecret)
    const secretArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:secretsmanager:${ENV.region}:${ENV.account}:secret:${SECRET_NAME}-??????`,
        ],
      ],
    }
    for (const id of allFunctions) {
      const secretStatements = statementsOf(id).filter(
        (s) => actions(s).some((a) => a.startsWith('secretsmanager:')) && !onWebhookSecret(s),
      )
      if (callsSeam.has(id)) {
        expect(secretStatements, id).toEqual([
          {
            Effect: 'Allow',
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: secretArn,
          },
        ])
      } else {
        expect(secretStatements, `${id} must not read the Seam key`).toEqual([])
      }
    }
    // Nobody else (the state machine's role included) holds any Secrets Manager permission.
    const secretHolders = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .filter((r) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
          (s) => actions(s).some((a) => a.startsWith('secretsmanager:')) && !onWebhookSecret(s),
        ),
      )
    expect(secretHolders).toHaveLength(callsSeam.size)
  })
})

// ---------------------------------------------------------------------------------------------------
// The Seam key, emails and phone numbers

const PEOPLE = [
  { email: 'ada.lovelace@example.org', phone: '+15555550171', key: 'sec-ada' },
  { email: 'grace.hopper@example.net', phone: '+447700900123', key: 'sec-grace' },
  { email: 'katherine.j@example.com', phone: '+33612345678', key: 'sec-katherine' },
]
const EMAIL_LIKE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/
const PHONE_LIKE = /\+[1-9]\d{7,14}\b/

const executionArns: string[] = []

describe('secrets and personal data', () => {
  it('the Seam key is in no Lambda environment variable of the template, only the secret name', () => {
    // The key is in this process's environment (the local runtime put it there): synth must not take it.
    expect(process.env.SEAM_API_KEY).toBe(seam.apiKey)
    const { resources, template } = synthesize()
    expect(JSON.stringify(template.toJSON())).not.toContain(seam.apiKey)
    for (const [id, fn] of Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function',
    )) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> })
        .Variables
      expect(Object.keys(variables), id).not.toContain('SEAM_API_KEY')
      for (const [name, value] of Object.entries(variables)) {
        expect(JSON.stringify(value), `${id} ${name}`).not.toMatch(/seam_[A-Za-z0-9]{8,}/)
      }
      if ('SEAM_API_KEY_SECRET_NAME' in variables) {
        expect(variables.SEAM_API_KEY_SECRET_NAME).toBe(SECRET_NAME)
      }
    }
  })

  it('create and delete flows run (the material the scans below read)', async () => {
    const acsSystem = seam.seed.acsSystem()
    const acsUser = seam.seed.acsUser({ acsSystemId: acsSystem.acs_system_id })
    const [ada, grace, katherine] = PEOPLE as [
      (typeof PEOPLE)[number],
      (typeof PEOPLE)[number],
      (typeof PEOPLE)[number],
    ]
    const body = (p: (typeof PEOPLE)[number]) => ({
      user_identity_key: p.key,
      email_address: p.email,
      phone_number: p.phone,
      full_name: 'Sec Person',
    })

    // Create (with an ACS user), repeat it, conflict with it, an unknown ACS user, Seam down.
    const created = await call(runtime.url, 'POST', '/user-identities', {
      ...body(ada),
      acs_user_ids: [acsUser.acs_user_id],
    })
    expect(created.status, JSON.stringify(created.json)).toBe(201)
    const adaId = (created.json.user_identity as { user_identity_id: string }).user_identity_id
    expect((await call(runtime.url, 'POST', '/user-identities', body(ada))).status).toBe(201)
    const conflict = await call(runtime.url, 'POST', '/user-identities', {
      ...body(ada),
      user_identity_key: 'sec-other',
    })
    expect(conflict.status).toBe(409)
    const unknownAcs = await call(runtime.url, 'POST', '/user-identities', {
      ...body(katherine),
      acs_user_ids: [randomUUID()],
    })
    expect(unknownAcs.status).toBe(404)
    seam.setFaults({ unavailableRate: 1 })
    expect((await call(runtime.url, 'POST', '/user-identities', body(katherine))).status).toBe(503)
    seam.setFaults({})

    // Delete: the created identity; a full graph whose ACS users carry an email and phone, through
    // throttling; and one whose credential never goes (FAILED naming it).
    const graph = seam.seed.identityGraph({
      userIdentity: {
        emailAddress: grace.email,
        phoneNumber: grace.phone,
        userIdentityKey: grace.key,
      },
      clientSessions: 1,
      acsSystems: 2,
      credentialsPerUser: 2,
      enrollmentAutomations: 1,
      phones: 1,
    })
    const stuck = seam.seed.identityGraph({
      userIdentity: { emailAddress: katherine.email, phoneNumber: katherine.phone },
      acsSystems: 1,
      credentialsPerUser: 1,
    })
    seam.stickDeletion(stuck.acsCredentialIds[0] ?? fail())

    // Throttle the workflows from their first call (not the DELETEs' existence check).
    seam.setFaults({ throttleRate: 0.15, retryAfterSeconds: 0, paths: STAGE_SEAM_PATHS })
    const first = await startDeletion(runtime.url, adaId)
    const second = await startDeletion(runtime.url, graph.userIdentityId)
    const third = await startDeletion(runtime.url, stuck.userIdentityId)
    const results = await Promise.all(
      [first, second, third].map((d) => waitForDeletion(runtime.url, d.deletion_id, 30_000)),
    )
    seam.setFaults({})
    expect(results.map((d) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'FAILED'])
    expect(results[2]?.error?.message).toContain(stuck.acsCredentialIds[0])
    for (const d of results) {
      executionArns.push(executionArnFor(runtime.stepFunctions.stateMachineArn, d.deletion_id))
    }
  })

  it('the Seam key, emails and phone numbers are in no execution input, output or history', async () => {
    expect(executionArns).toHaveLength(3)
    for (const executionArn of executionArns) {
      const described = await runtime.stepFunctions.describeExecution({ executionArn })
      const events: unknown[] = []
      let nextToken: string | undefined
      do {
        const page = await runtime.stepFunctions.getExecutionHistory({
          executionArn,
          includeExecutionData: true,
          maxResults: 1000,
          ...(nextToken ? { nextToken } : {}),
        })
        events.push(...(page.events ?? []))
        nextToken = page.nextToken
      } while (nextToken)
      expect(events.length).toBeGreaterThan(10)
      const text = JSON.stringify({ described, events })
      // The scan reads real data: the execution's input and the stage results are in it.
      expect(text).toContain('user_identity_id')
      expect(text).toContain('TaskSucceeded')
      expectNoSecrets(text, `execution ${executionArn}`)
    }
  })

  it('the Seam key, emails and phone numbers are in no log line (logged at DEBUG)', () => {
    const lines = captured
      .join('\n')
      .split('\n')
      .filter((line) => line.trim() !== '')
    // The scan reads real logs: the handlers' JSON lines, DEBUG included, of every flow above.
    const json = lines.filter((line) => line.startsWith('{"level"') || line.includes('"level":'))
    expect(json.length).toBeGreaterThan(30)
    expect(json.some((line) => line.includes('"level":"DEBUG"'))).toBe(true)
    expect(json.some((line) => line.includes('delete acs_credentials'))).toBe(true)
    expect(json.some((line) => line.includes('"level":"WARN"'))).toBe(true)
    for (const line of lines) expectNoSecrets(line, 'log line')
  })

  it('the scan itself catches a key, an email or a phone number', () => {
    const person = PEOPLE[0] ?? fail()
    for (const leak of [
      `key ${seam.apiKey}`,
      `{"to":"${person.email.toUpperCase()}"}`,
      `phone ${person.phone}`,
      `digits ${person.phone.slice(1)}`,
      'someone.else@corp.example',
      'call +4915112345678 now',
    ]) {
      expect(() => expectNoSecrets(leak, 'self-check'), leak).toThrow()
    }
    expect(() =>
      expectNoSecrets('{"user_identity_id":"abc","at":"+02:00"}', 'self-check'),
    ).not.toThrow()
  })
})

function expectNoSecrets(text: string, where: string): void {
  expect(text, `${where}: the Seam API key`).not.toContain(seam.apiKey)
  for (const person of PEOPLE) {
    expect(text.toLowerCase(), `${where}: an email address`).not.toContain(person.email)
    expect(text, `${where}: a phone number`).not.toContain(person.phone)
    expect(text, `${where}: a phone number without +`).not.toContain(person.phone.slice(1))
  }
  expect(text, `${where}: something like an email address`).not.toMatch(EMAIL_LIKE)
  expect(text, `${where}: something like a phone number`).not.toMatch(PHONE_LIKE)
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Local addresses of the sockets listening on this TCP port (Linux /proc), or undefined elsewhere. */
function listeningAddresses(port: number): string[] | undefined {
  const found: string[] = []
  let read = false
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
      read = true
    } catch {
      continue
    }
    for (const row of text.split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/)
      if (!local || state !== '0A') continue // 0A: LISTEN
      const [hexAddress, hexPort] = local.split(':')
      if (!hexAddress || Number.parseInt(hexPort ?? '', 16) !== port) continue
      found.push(decodeAddress(hexAddress))
    }
  }
  return read ? found : undefined
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    // IPv4, little-endian.
    return [6, 4, 2, 0].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.')
  }
  return `ipv6:${hex}`
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.setTimeout(1_000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}
