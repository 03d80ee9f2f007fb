import { Annotations, Duration } from 'aws-cdk-lib'
import type { Stage } from 'aws-cdk-lib/aws-apigateway'
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch'
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions'
import type { IFunction } from 'aws-cdk-lib/aws-lambda'
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns'
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions'
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import { acknowledge } from './nag.js'
import type { ServiceMetrics } from './observability.js'

export interface ServiceAlarmsProps {
  readonly deletionStateMachine: IStateMachine
  /** The API's stage: its 5XXError metric (ApiName + Stage). */
  readonly apiStage: Stage
  /** Lambdas whose Errors metric is alarmed, by a readable name (e.g. the route or stage). */
  readonly functions?: Readonly<Record<string, IFunction>>
  /** Where alarms (and their return to OK) are sent. */
  readonly alarmTopic?: ITopic
  /** Without alarmTopic: create a topic with this email address subscribed (confirm the email). */
  readonly alarmEmail?: string
  /** 5xx answers in 5 minutes that raise the API alarm. Default 1: bad input is a 4xx, never a 5xx. */
  readonly api5xxThreshold?: number
  /**
   * Errors of one Lambda in 5 minutes that raise its alarm. Default 5: the deletion tasks throw on
   * Seam's 429 and 503 so that Step Functions retries them, so a few errors are routine.
   */
  readonly lambdaErrorThreshold?: number
  /** The service's own metrics: with them, an alarm on a sustained Seam throttle rate. */
  readonly serviceMetrics?: ServiceMetrics
  /**
   * Percent of Seam requests answered 429, in each of 3 consecutive 5-minute periods, that raises the
   * throttle alarm. Default 10: the tasks retry 429s with backoff, so a short burst is routine; a
   * sustained rate slows every deletion and create.
   */
  readonly seamThrottlePercent?: number
}

const PERIOD = Duration.minutes(5)

/** Synth's warning when the alarms have nowhere to go (also printed by infra/app.ts). */
export const NO_ALARM_TOPIC_WARNING =
  'The alarms notify nobody: no alarmEmail and no alarmTopic. Deploy with -c alarmEmail=oncall@example.com, or pass alarmTopic (an SNS topic) from the code embedding the stack (README: "Alarms").'

/**
 * What an operator is paged for: a deletion that FAILED or TIMED_OUT (a credential may still open a door),
 * API 5xx answers, and Lambda errors. Every alarm goes to the topic, if there is one, and so does its
 * return to OK. Props in, no lookups.
 */
export class ServiceAlarms extends Construct {
  readonly deletionFailed: Alarm
  readonly deletionTimedOut: Alarm
  readonly api5xx: Alarm
  readonly functionErrors: Record<string, Alarm> = {}
  readonly seamThrottled?: Alarm
  readonly topic?: ITopic

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id)
    this.topic =
      props.alarmTopic ?? (props.alarmEmail ? this.emailTopic(props.alarmEmail) : undefined)
    if (!this.topic) {
      // Acknowledgeable by id where no notification is wanted (e.g. a test stage).
      Annotations.of(this).addWarningV2(
        'seam-user-identities:alarms-notify-nobody',
        NO_ALARM_TOPIC_WARNING,
      )
    }

    const sm = props.deletionStateMachine
    this.deletionFailed = this.alarm(
      'DeletionFailed',
      sm.metricFailed({ period: PERIOD, statistic: 'Sum' }),
      1,
      "A user identity deletion FAILED: some of its resources (possibly door credentials) may remain in Seam. Read the execution's Cause (stage, stuck ids), fix, then DELETE the user identity again (README: Runbook).",
    )
    this.deletionTimedOut = this.alarm(
      'DeletionTimedOut',
      sm.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
      1,
      'A user identity deletion TIMED_OUT: some of its resources (possibly door credentials) may remain in Seam. DELETE the user identity again to resume (README: Runbook).',
    )
    this.api5xx = this.alarm(
      'Api5xx',
      props.apiStage.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      props.api5xxThreshold ?? 1,
      'The API answered 5xx: Seam unavailable or misconfigured (502/503, see error.type) or an unexpected error (500, logged with its request_id in the route Lambda logs).',
    )
    for (const [name, fn] of Object.entries(props.functions ?? {})) {
      this.functionErrors[name] = this.alarm(
        `${name}Errors`,
        fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        props.lambdaErrorThreshold ?? 5,
        `The ${name} Lambda keeps failing (errors and timeouts); see its log group.`,
      )
    }
    if (props.serviceMetrics) {
      this.seamThrottled = this.alarm(
        'SeamThrottled',
        props.serviceMetrics.seamThrottlePercent(),
        props.seamThrottlePercent ?? 10,
        'Seam has been rate-limiting this service (HTTP 429) for 15 minutes: deletions and creates slow down and may fail after their retries. See the dashboard (Seam requests by route), lower the load (bulk deletions, callers) or ask Seam about the workspace limits.',
        3,
      )
    }
  }

  private alarm(
    id: string,
    metric: IMetric,
    threshold: number,
    description: string,
    evaluationPeriods = 1,
  ): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    })
    if (this.topic) {
      const action = new SnsAction(this.topic)
      alarm.addAlarmAction(action)
      alarm.addOkAction(action)
    }
    return alarm
  }

  private emailTopic(email: string): Topic {
    const topic = new Topic(this, 'Topic', {
      displayName: 'Seam user identities alarms',
      enforceSSL: true,
    })
    topic.addSubscription(new EmailSubscription(email))
    acknowledge(
      topic,
      'AwsSolutions-SNS2',
      'Alarm notifications carry alarm names, states and metric values only, no secret or personal data; encrypting them would need a customer managed KMS key whose policy admits CloudWatch.',
    )
    return topic
  }
}
