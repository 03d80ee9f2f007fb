import { Duration } from 'aws-cdk-lib'
import type { Stage } from 'aws-cdk-lib/aws-apigateway'
import {
  type Alarm,
  AlarmWidget,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch'
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions'
import { Construct } from 'constructs'
import { DELETION_STAGES } from '../../functions/core/stages.js'
import { DELETION_OUTCOMES, METRIC, SEAM_OUTCOMES } from '../../functions/telemetry/metrics.js'
import { SERVICE_NAME } from '../../functions/telemetry/powertools.js'

const PERIOD = Duration.minutes(5)

/**
 * The service's own metrics (functions/telemetry/metrics.ts) as CloudWatch sees them: the namespace the
 * stack gives every function (POWERTOOLS_METRICS_NAMESPACE) and Powertools' `service` dimension.
 */
export class ServiceMetrics {
  constructor(readonly namespace: string) {}

  metric(name: string, dimensions: Record<string, string>, statistic = 'Sum'): Metric {
    return new Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service: SERVICE_NAME, ...dimensions },
      statistic,
      period: PERIOD,
    })
  }

  /** Every value of a metric whose dimensions are not known in advance (e.g. Seam's routes). */
  search(name: string, dimensions: readonly string[], statistic: string, label: string): IMetric {
    // Quoted: a stage name may add characters a search term would otherwise have to escape.
    const schema = [`"${this.namespace}"`, 'service', ...dimensions].join(',')
    return new MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${name}"', '${statistic}', ${PERIOD.toSeconds()})`,
      label,
      period: PERIOD,
    })
  }

  /** Seam requests answered 429, in percent of all Seam requests (0 when there were none). */
  seamThrottlePercent(): IMetric {
    const usingMetrics = Object.fromEntries(
      SEAM_OUTCOMES.map((outcome) => [
        `o${outcome.replace(/\W/g, '')}`,
        this.metric(METRIC.seamRequests, { outcome }),
      ]),
    )
    const total = Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + ')
    return new MathExpression({
      expression: `IF((${total}) > 0, 100 * FILL(o429, 0) / (${total}), 0)`,
      usingMetrics,
      label: 'Seam requests throttled (429), %',
      period: PERIOD,
    })
  }
}

export interface ServiceDashboardProps {
  readonly dashboardName: string
  readonly metrics: ServiceMetrics
  readonly deletionStateMachine: IStateMachine
  readonly apiStage: Stage
  /** Shown at the top, in this order. */
  readonly alarms?: readonly Alarm[]
}

/**
 * One CloudWatch dashboard for the service: the API (requests, 4xx, 5xx, latency), deletions (the state
 * machine's executions and the stage tasks' outcomes, stage durations), creates by outcome, and Seam
 * (requests by route and outcome, latency, throttling). Props in, no lookups.
 */
export class ServiceDashboard extends Construct {
  readonly dashboard: Dashboard

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id)
    const m = props.metrics
    const stage = props.apiStage
    const sm = props.deletionStateMachine
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 8, height: 6 })

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    })
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${props.dashboardName}\nAPI, deletions, creates and Seam. Metrics of our own: namespace \`${m.namespace}\` (EMF, Powertools). Runbook: the README, "Runbook".`,
        width: 24,
        height: 2,
      }),
    )
    if (props.alarms?.length) {
      this.dashboard.addWidgets(
        ...props.alarms.map((alarm) => new AlarmWidget({ alarm, width: 8 })),
      )
    }
    this.dashboard.addWidgets(
      graph(
        'API requests and errors',
        [stage.metricCount({ period: PERIOD, statistic: 'Sum' })],
        [
          stage.metricClientError({ period: PERIOD, statistic: 'Sum' }),
          stage.metricServerError({ period: PERIOD, statistic: 'Sum' }),
        ],
      ),
      graph('API latency (ms)', [
        stage.metricLatency({ period: PERIOD, statistic: 'p50' }),
        stage.metricLatency({ period: PERIOD, statistic: 'p99' }),
        stage.metricIntegrationLatency({ period: PERIOD, statistic: 'p99' }),
      ]),
      graph('Creates by outcome', [
        m.search(METRIC.creates, ['outcome'], 'Sum', 'creates by outcome'),
      ]),
    )
    this.dashboard.addWidgets(
      graph('Deletion executions', [
        sm.metricStarted({ period: PERIOD, statistic: 'Sum' }),
        sm.metricSucceeded({ period: PERIOD, statistic: 'Sum' }),
        sm.metricFailed({ period: PERIOD, statistic: 'Sum' }),
        sm.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
        sm.metricAborted({ period: PERIOD, statistic: 'Sum' }),
      ]),
      graph(
        'Deletions by outcome (stage tasks)',
        DELETION_OUTCOMES.map((outcome) => m.metric(METRIC.deletions, { outcome })),
      ),
      graph(
        'Stage duration (s, p90) and checks (max)',
        DELETION_STAGES.map((s) => m.metric(METRIC.stageDuration, { stage: s.name }, 'p90')),
        DELETION_STAGES.map((s) => m.metric(METRIC.stageChecks, { stage: s.name }, 'Maximum')),
      ),
    )
    this.dashboard.addWidgets(
      graph(
        'Seam requests by outcome',
        SEAM_OUTCOMES.map((outcome) => m.metric(METRIC.seamRequests, { outcome })),
        [m.seamThrottlePercent()],
      ),
      graph('Seam requests by route and outcome', [
        m.search(METRIC.seamRequests, ['outcome', 'route'], 'Sum', 'requests'),
      ]),
      graph('Seam latency by route (ms, p99)', [
        m.search(METRIC.seamLatency, ['outcome', 'route'], 'p99', 'p99'),
      ]),
    )
  }
}
