// The route table of an ENI's addresses (reference CalculateRouteTableId). One function for everyone
// who needs it: the agent's host setup and datastore, and the plugin reading a prevResult. It imports
// only the input checks, so the plugin bundle stays small.

import { DatapathInputError, validateDeviceNumber } from "./validate.ts";

/** The main table: the primary ENI's (card 0, device 0) addresses are routed there. */
export const MAIN_TABLE = 254;

/** main (254) for card 0 device 0, device+1 on card 0, 10000 + device + 100·card on other cards. */
export function routeTableId(deviceNumber: number, networkCard = 0): number {
  validateDeviceNumber(deviceNumber);
  if (!Number.isInteger(networkCard) || networkCard < 0 || networkCard > 15) {
    throw new DatapathInputError(`invalid network card ${JSON.stringify(networkCard)}: an integer in 0-15`);
  }
  if (networkCard === 0) return deviceNumber === 0 ? MAIN_TABLE : deviceNumber + 1;
  return 10000 + deviceNumber + 100 * networkCard;
}
