/**
 * Counters and histograms for the request path, recorded with plain
 * arithmetic on per-series state and reported through the OpenTelemetry
 * SDK at collection time (a `MetricProducer` of the registry's reader), so
 * they come out of `/metrics` exactly like SDK instruments: counters as
 * cumulative monotonic sums (`_total`), histograms with explicit buckets.
 *
 * Why: the SDK's synchronous instruments sort and serialise the attribute
 * set of every measurement to find its series (`hashAttributes`), which
 * costs a few microseconds per call; a request records about eight. Here
 * every instrument declares its label names up front, a series is found by
 * its label values in that order, and recording is an increment.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality, DataPointType,
  type CollectionResult, type MetricData, type MetricProducer,
} from '@opentelemetry/sdk-metrics';

export interface FastCounter<L extends string> {
  add(value: number, attributes: Readonly<Record<L, string>>): void;
}

export interface FastHistogram<L extends string> {
  record(value: number, attributes: Readonly<Record<L, string>>): void;
}

export interface FastInstrumentOptions {
  description: string;
  unit?: string;
}

export interface FastHistogramOptions extends FastInstrumentOptions {
  /** Upper bounds (inclusive) of the buckets, ascending; a last `+Inf` bucket is implied. */
  boundaries: readonly number[];
}

interface CounterSeries { attributes: Attributes; value: number }
interface HistogramSeries { attributes: Attributes; counts: number[]; sum: number; count: number; min: number; max: number }

const SEPARATOR = '\u0000';

function seriesKey<L extends string>(labels: readonly L[], attributes: Readonly<Record<L, string>>): string {
  let key = '';
  for (const label of labels) key += attributes[label] + SEPARATOR;
  return key;
}

function project<L extends string>(labels: readonly L[], attributes: Readonly<Record<L, string>>): Attributes {
  const out: Attributes = {};
  for (const label of labels) out[label] = attributes[label];
  return out;
}

abstract class FastInstrument<S> {
  readonly series = new Map<string, S>();
  constructor(readonly name: string, readonly options: FastInstrumentOptions) {}
  abstract data(startTime: HrTime, endTime: HrTime): MetricData;
}

class Counter<L extends string> extends FastInstrument<CounterSeries> implements FastCounter<L> {
  constructor(name: string, options: FastInstrumentOptions, readonly labels: readonly L[]) {
    super(name, options);
  }

  add(value: number, attributes: Readonly<Record<L, string>>): void {
    if (!(value >= 0)) return; // a counter only grows (the SDK drops negative and NaN values too)
    const key = seriesKey(this.labels, attributes);
    const series = this.series.get(key);
    if (series) series.value += value;
    else this.series.set(key, { attributes: project(this.labels, attributes), value });
  }

  data(startTime: HrTime, endTime: HrTime): MetricData {
    return {
      descriptor: { name: this.name, description: this.options.description, unit: this.options.unit ?? '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [...this.series.values()].map((s) => ({ startTime, endTime, attributes: s.attributes, value: s.value })),
    };
  }
}

class Histogram<L extends string> extends FastInstrument<HistogramSeries> implements FastHistogram<L> {
  readonly boundaries: readonly number[];
  constructor(name: string, options: FastHistogramOptions, readonly labels: readonly L[]) {
    super(name, options);
    this.boundaries = [...options.boundaries];
  }

  record(value: number, attributes: Readonly<Record<L, string>>): void {
    if (Number.isNaN(value)) return;
    const key = seriesKey(this.labels, attributes);
    let series = this.series.get(key);
    if (!series) {
      series = { attributes: project(this.labels, attributes), counts: new Array<number>(this.boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity };
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.boundaries.length && value > (this.boundaries[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += value;
    series.count++;
    if (value < series.min) series.min = value;
    if (value > series.max) series.max = value;
  }

  data(startTime: HrTime, endTime: HrTime): MetricData {
    return {
      descriptor: { name: this.name, description: this.options.description, unit: this.options.unit ?? '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...this.series.values()].map((s) => ({
        startTime,
        endTime,
        attributes: s.attributes,
        value: { buckets: { boundaries: [...this.boundaries], counts: [...s.counts] }, sum: s.sum, count: s.count, min: s.min, max: s.max },
      })),
    };
  }
}

/** A set of fast instruments, collected as one instrumentation scope. */
export class FastInstruments implements MetricProducer {
  readonly #instruments: Array<FastInstrument<unknown>> = [];
  readonly #names = new Set<string>();
  readonly #startTime = millisToHrTime(Date.now());

  constructor(private readonly scope: string, private readonly resource: Resource) {}

  #register<T extends FastInstrument<unknown>>(instrument: T): T {
    if (this.#names.has(instrument.name)) throw new Error(`metric '${instrument.name}' is already registered`);
    this.#names.add(instrument.name);
    this.#instruments.push(instrument);
    return instrument;
  }

  /** A monotonic counter with these label names (every measurement gives a value for each). */
  createCounter<L extends string>(name: string, options: FastInstrumentOptions, labels: readonly L[]): FastCounter<L> {
    return this.#register(new Counter(name, options, labels));
  }

  /** A histogram with explicit bucket boundaries and these label names. */
  createHistogram<L extends string>(name: string, options: FastHistogramOptions, labels: readonly L[]): FastHistogram<L> {
    return this.#register(new Histogram(name, options, labels));
  }

  collect(): Promise<CollectionResult> {
    const endTime = millisToHrTime(Date.now());
    return Promise.resolve({
      resourceMetrics: {
        resource: this.resource,
        scopeMetrics: [{ scope: { name: this.scope }, metrics: this.#instruments.map((i) => i.data(this.#startTime, endTime)) }],
      },
      errors: [],
    });
  }
}
