// DynamoDB on this machine: dynalite (an in-memory, DynamoDB-compatible server) on a free port of
// 127.0.0.1, with the coordination table created under the stack's key schema. The code under test
// reaches it with the same @aws-sdk/client-dynamodb client as deployed, only the endpoint and fixed
// placeholder credentials differ (dynalite checks neither). dynalite has no transactions, TTL
// deletion nor streams: the coordination code uses none of them.
import type { AddressInfo } from 'node:net'
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import dynalite from 'dynalite'
import { COORDINATION_TABLE, coordinationClient } from '../functions/core/coordination.js'

export interface LocalDynamoDb {
  endpoint: string
  tableName: string
  /** The client configuration that reaches this server (endpoint, region, placeholder keys). */
  clientConfig: {
    endpoint: string
    region: string
    credentials: { accessKeyId: string; secretAccessKey: string }
  }
  /** A document client for the coordination table, as the Lambdas build it. */
  documentClient: DynamoDBDocumentClient
  close(): Promise<void>
}

export async function startLocalDynamoDb(
  options: { tableName?: string } = {},
): Promise<LocalDynamoDb> {
  const tableName = options.tableName ?? 'coordination'
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  const clientConfig = {
    endpoint,
    region: 'us-east-1',
    // Not credentials: dynalite accepts any signature. Set so the SDK never looks for real ones.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }
  const admin = new DynamoDBClient(clientConfig)
  const documentClient = coordinationClient(clientConfig)
  const close = async () => {
    admin.destroy()
    documentClient.destroy()
    // Stop taking requests, and let the ones already in dynalite finish before its store closes: a
    // request still in flight then would throw "Database is closed" out of dynalite, uncaught.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections?.()
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))])
    server.closeAllConnections?.()
    await closed
  }
  try {
    await admin.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: COORDINATION_TABLE.partitionKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: COORDINATION_TABLE.partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
    await waitUntilTableExists(
      { client: admin, minDelay: 1, maxDelay: 1, maxWaitTime: 10 },
      { TableName: tableName },
    )
  } catch (err) {
    await close()
    throw err
  }
  return { endpoint, tableName, clientConfig, documentClient, close }
}
