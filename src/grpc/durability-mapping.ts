/** The Durability enum of the write requests <-> the domain's durability levels. */
import type { Durability } from "../domain/durability.js";
import { throwIfViolations } from "../domain/errors.js";
import { Durability as ProtoDurability } from "../gen/vecrec/v1/vecrec.js";
import { inverse } from "./enum-mapping.js";

const DURABILITY_TO_PROTO: Record<Durability, number> = {
  none: ProtoDurability.DURABILITY_NONE,
  local: ProtoDurability.DURABILITY_LOCAL,
  replicas: ProtoDurability.DURABILITY_REPLICAS,
};
const DURABILITY_FROM_PROTO = inverse(DURABILITY_TO_PROTO);

/**
 * A request's `durability`: undefined when unset or DURABILITY_UNSPECIFIED (the server's default).
 * @throws InvalidArgumentError (field `durability`) for a number the enum does not define
 */
export function decodeDurability(value: ProtoDurability | number | undefined): Durability | undefined {
  if (value === undefined || value === (ProtoDurability.DURABILITY_UNSPECIFIED as number)) return undefined;
  const durability = DURABILITY_FROM_PROTO.get(value);
  if (durability === undefined) {
    throwIfViolations([
      { field: "durability", description: `unknown durability ${value}: send DURABILITY_NONE, DURABILITY_LOCAL or DURABILITY_REPLICAS (or leave it unset)` },
    ]);
  }
  return durability;
}
