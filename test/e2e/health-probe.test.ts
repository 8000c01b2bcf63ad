import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHealth, probeAddress } from "../../src/health-probe.js";
import { closedPort } from "../support/closed-port.js";
import { BACKENDS, startHarness, type Harness } from "./harness.js";

describe("the container health probe (src/health-probe.ts)", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness(BACKENDS[0]!);
  });
  afterAll(() => harness.close());

  it("probes loopback on VECREC_LISTEN's port unless given an address", () => {
    expect(probeAddress(undefined, { VECREC_LISTEN: "0.0.0.0:6000" })).toBe("127.0.0.1:6000");
    expect(probeAddress(undefined, {})).toBe("127.0.0.1:50051");
    expect(probeAddress("10.0.0.1:7000", { VECREC_LISTEN: "0.0.0.0:6000" })).toBe("10.0.0.1:7000");
    // With a plaintext health listener (the main port serving TLS), the probe goes there.
    expect(probeAddress(undefined, { VECREC_LISTEN: "0.0.0.0:6000", VECREC_HEALTH_LISTEN: "0.0.0.0:6001" })).toBe("127.0.0.1:6001");
  });

  it("answers SERVING for a serving server and fails for a closed port", async () => {
    expect(await checkHealth(harness.address)).toBe("SERVING");
    await expect(checkHealth(`127.0.0.1:${await closedPort()}`, 1000)).rejects.toThrow(/UNAVAILABLE/);
  });
});
