/**
 * The PrometheusRule (monitoring.coreos.com/v1) carrying the same groups
 * as a plain Prometheus rules file, for prometheus-operator users.
 */
import { parse, stringify } from 'yaml';

const HEADER = `# Generated from switchyard.rules.yaml by \`npm run alert-rules -w @switchyard/observability\`; edit that file.
# The Switchyard alerting rules for prometheus-operator. The release label must
# match your Prometheus' ruleSelector (kube-prometheus-stack: the Helm release).
`;

export function prometheusRule(rulesFile: string, release = 'kube-prometheus-stack'): string {
  const { groups } = parse(rulesFile) as { groups: unknown[] };
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'switchyard', labels: { 'app.kubernetes.io/part-of': 'switchyard', release } },
    spec: { groups },
  };
  return HEADER + stringify(resource, { lineWidth: 0 });
}
