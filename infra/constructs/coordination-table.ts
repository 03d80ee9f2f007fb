import { RemovalPolicy } from 'aws-cdk-lib'
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb'
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam'
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda'
import { Construct } from 'constructs'
import { COORDINATION_TABLE, COORDINATION_TABLE_ENV } from '../../functions/core/coordination.js'

/**
 * The service's one DynamoDB table for shared state (functions/core/coordination.ts; keys prefixed by
 * kind): what deletion stages wait for, the Seam events received, webhook deliveries seen, and leases.
 * On-demand, point-in-time recovery, encrypted, TTL on `expires_at`; kept when the stack is deleted.
 */
export class CoordinationTable extends Construct {
  readonly table: Table

  constructor(scope: Construct, id: string) {
    super(scope, id)
    this.table = new Table(this, 'Table', {
      partitionKey: { name: COORDINATION_TABLE.partitionKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: COORDINATION_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    })
  }

  /** The environment a function reads the table's name from. */
  get environment(): Record<string, string> {
    return { [COORDINATION_TABLE_ENV]: this.table.tableName }
  }

  /**
   * The item-level actions the waiters and events use (conditional writes, consistent reads); leases
   * also delete (`'dynamodb:DeleteItem'` in `extra`).
   */
  grantUse(grantee: IGrantable, ...extra: string[]): void {
    this.table.grant(
      grantee,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchGetItem',
      ...extra,
    )
  }

  /**
   * Gives an existing function the table's name (its environment) and exactly `actions` on it (grant).
   */
  attach(fn: LambdaFunction, actions: string[], keys: string[]): void {
    for (const [key, value] of Object.entries(this.environment)) fn.addEnvironment(key, value)
    this.grant(fn, actions, keys)
  }

  /**
   * Exactly `actions` on the items whose key matches one of `keys` (KEY_PATTERNS) only
   * (`dynamodb:LeadingKeys`): e.g. the stage functions read events and the delivery health and write
   * that one item — never the wait sets, which hold task tokens.
   */
  grant(grantee: IGrantable, actions: string[], keys: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions,
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } },
      }),
    )
  }
}
