import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/**
 * A Prometheus counter for the hot path: one array slot per label set, found once and then
 * incremented with a plain `+=`. prom-client's own children hash their labels on every `inc`,
 * which cost ~0.5 µs per decision (bench/README.md). Exposed through the same registry (it
 * implements the registry's metric contract: name, help, type, get()).
 */
export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #labels: Labels[] = [];
  #values = new Float64Array(16);

  constructor(readonly name: string, readonly help: string, registry: Registry) {
    registry.registerMetric(this as never);
  }

  /** A slot for this label set (call once per distinct set, keep the number). */
  slot(labels: Labels): number {
    this.#labels.push(labels);
    if (this.#labels.length > this.#values.length) { const v = new Float64Array(this.#values.length * 2); v.set(this.#values); this.#values = v; }
    return this.#labels.length - 1;
  }

  inc(slot: number, n = 1): void { this.#values[slot]! += n; }

  /** Registry contract. */
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#labels.map((labels, i) => ({ labels, value: this.#values[i]! })) };
  }

  reset(): void { this.#values.fill(0); }
}

/**
 * A Prometheus histogram with fixed buckets (seconds) for the hot path: `observe(slot, v)` is a
 * short loop over the bucket bounds; no label hashing per observation.
 */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #labels: Labels[] = [];
  readonly #counts: Float64Array[] = [];
  readonly #sums: number[] = [];

  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[], registry: Registry) {
    registry.registerMetric(this as never);
  }

  slot(labels: Labels): number {
    this.#labels.push(labels);
    this.#counts.push(new Float64Array(this.buckets.length + 1));
    this.#sums.push(0);
    return this.#labels.length - 1;
  }

  observe(slot: number, v: number): void {
    const c = this.#counts[slot]!;
    const b = this.buckets;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    c[i]!++;
    this.#sums[slot]! += v;
  }

  async get() {
    const values: Array<{ labels: Labels; value: number; metricName: string }> = [];
    this.#labels.forEach((labels, s) => {
      const c = this.#counts[s]!;
      let cum = 0;
      this.buckets.forEach((le, i) => { cum += c[i]!; values.push({ labels: { ...labels, le: String(le) }, value: cum, metricName: `${this.name}_bucket` }); });
      cum += c[this.buckets.length]!;
      values.push({ labels: { ...labels, le: '+Inf' }, value: cum, metricName: `${this.name}_bucket` });
      values.push({ labels, value: this.#sums[s]!, metricName: `${this.name}_sum` });
      values.push({ labels, value: cum, metricName: `${this.name}_count` });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void { for (const c of this.#counts) c.fill(0); this.#sums.fill(0); }
}
