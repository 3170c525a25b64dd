import { describe, expect, it } from 'vitest';
import { tracesExportConfigured } from './telemetry.ts';

describe('telemetry configuration', () => {
  it('exports nothing unless an OTLP endpoint or a trace exporter is configured', () => {
    expect(tracesExportConfigured({})).toBe(false);
    expect(tracesExportConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracesExportConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracesExportConfigured({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracesExportConfigured({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracesExportConfigured({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
  });
});
