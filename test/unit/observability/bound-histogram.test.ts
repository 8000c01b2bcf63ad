/**
 * BoundHistogram answers exactly as prom-client's Histogram does for the same observations: the same
 * text exposition, the same JSON (what AggregatorRegistry merges across --workers), and the same merged
 * result when two workers' figures are aggregated.
 */
import { AggregatorRegistry, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { BoundHistogram } from "../../../src/observability/bound-histogram.js";

const BUCKETS = [0.0005, 0.001, 0.0025, 0.01, 1];
const LABELS = ["grpc_type", "grpc_method"] as const;
const OBSERVATIONS: [string, string, number][] = [
  ["unary", "Get", 0.0004],
  ["unary", "Get", 0.0005],
  ["unary", "Get", 0.002],
  ["server_stream", "Search", 0.5],
  ["server_stream", "Search", 3], // above every bound: +Inf only
  ["server_stream", "Search", 0],
];

function both(): { theirs: Registry; ours: Registry } {
  const theirs = new Registry();
  const reference = new Histogram({ name: "h_seconds", help: "help text", labelNames: LABELS, buckets: BUCKETS, registers: [theirs] });
  const ours = new Registry();
  const bound = new BoundHistogram("h_seconds", "help text", LABELS, BUCKETS, [ours]);
  for (const [type, method, value] of OBSERVATIONS) {
    reference.observe({ grpc_type: type, grpc_method: method }, value);
    bound.series(type, method).observe(value);
  }
  return { theirs, ours };
}

describe("BoundHistogram", () => {
  it("exposes the same text as prom-client's Histogram", async () => {
    const { theirs, ours } = both();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("gives the same JSON, and aggregates across workers as prom-client's does", async () => {
    const { theirs, ours } = both();
    const theirJson = await theirs.getMetricsAsJSON();
    const ourJson = await ours.getMetricsAsJSON();
    expect(ourJson).toEqual(theirJson);
    const merged = (json: unknown) => AggregatorRegistry.aggregate([json, json] as never).metrics();
    expect(await merged(ourJson)).toBe(await merged(theirJson));
    expect(await merged(ourJson)).toContain('h_seconds_count{grpc_type="server_stream",grpc_method="Search"} 6');
  });

  it("resets to zero and keeps its series bound", async () => {
    const ours = new Registry();
    const bound = new BoundHistogram("h_seconds", "help text", LABELS, BUCKETS, [ours]);
    const series = bound.series("unary", "Get");
    series.observe(0.001);
    ours.resetMetrics();
    series.observe(0.002);
    expect(await ours.metrics()).toContain('h_seconds_count{grpc_type="unary",grpc_method="Get"} 1');
  });
});
