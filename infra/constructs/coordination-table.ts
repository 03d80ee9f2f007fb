import { RemovalPolicy } from 'aws-cdk-lib'
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb'
import type { IGrantable } from 'aws-cdk-lib/aws-iam'
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

  /** Counting a deployment-wide rate only (Coordination.takeRateSlot: one conditional UpdateItem). */
  grantCountRate(grantee: IGrantable): void {
    this.table.grant(grantee, 'dynamodb:UpdateItem')
  }

  /** Reading received events only (the stage functions look up which deliveries came). */
  grantReadEvents(grantee: IGrantable): void {
    this.table.grant(grantee, 'dynamodb:BatchGetItem')
  }
}
