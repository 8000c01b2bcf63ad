import { describe, expect, it } from "vitest";
import { parseTraceparent } from "../../../src/observability/traceparent.js";
import { setUpTracing, tracesExporterFromEnv } from "../../../src/observability/tracing.js";

describe("tracesExporterFromEnv (the standard OTEL_* variables)", () => {
  it("is off unless an exporter or an OTLP endpoint is set", () => {
    expect(tracesExporterFromEnv({})).toBe("none");
    expect(tracesExporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe("otlp");
    expect(tracesExporterFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe("otlp");
    expect(tracesExporterFromEnv({ OTEL_TRACES_EXPORTER: "otlp" })).toBe("otlp");
    expect(tracesExporterFromEnv({ OTEL_TRACES_EXPORTER: "console" })).toBe("console");
    expect(tracesExporterFromEnv({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe("none");
    expect(tracesExporterFromEnv({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" })).toBe("none");
    expect(() => tracesExporterFromEnv({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/zipkin is not supported/);
  });

  it("sets up no tracer when off", () => {
    expect(setUpTracing({ env: {} })).toBeUndefined();
  });
});

describe("parseTraceparent", () => {
  it("reads the trace and parent span ids of a W3C traceparent, and refuses malformed or zero ids", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
    });
    expect(parseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceparent("garbage")).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});
