// Which IPv4 ranges a VPC may add to the one it was created with (EC2's "IPv4 CIDR block association
// restrictions"): the primary CIDR's range decides. A VPC in 10.0.0.0/8 may add other 10/8 blocks,
// 100.64.0.0/10 (the shared address space custom networking uses for pods), 198.19.0.0/16 and
// publicly routable blocks, but not 172.16.0.0/12 or 192.168.0.0/16; and so on for each range. Some
// ranges no VPC may use at all (this network, loopback, link-local, multicast, reserved).

import { cidrContainsCidr, cidrsOverlap, formatCidr4, parseCidr4, type Cidr4 } from "../ipv4.ts";
import { Ec2Error } from "./types.ts";

const c = (text: string): Cidr4 => parseCidr4(text) as Cidr4;

const TEN = c("10.0.0.0/8");
const ONE_SEVEN_TWO = c("172.16.0.0/12");
const ONE_NINE_TWO = c("192.168.0.0/16");
const BENCHMARK = c("198.19.0.0/16");
export const SHARED_ADDRESS_SPACE = c("100.64.0.0/10");

/** Never usable in a VPC. */
const UNUSABLE = ["0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"].map(c);

type Range = "10" | "172.16" | "192.168" | "198.19" | "public";

/** The range a primary CIDR is in (100.64.0.0/10 counts as publicly routable, as in EC2's table). */
function rangeOf(cidr: Cidr4): Range {
  if (cidrContainsCidr(TEN, cidr)) return "10";
  if (cidrContainsCidr(ONE_SEVEN_TWO, cidr)) return "172.16";
  if (cidrContainsCidr(ONE_NINE_TWO, cidr)) return "192.168";
  if (cidrContainsCidr(BENCHMARK, cidr)) return "198.19";
  return "public";
}

/** The ranges a VPC whose primary CIDR is in `range` may not add blocks from. */
const RESTRICTED: Record<Range, readonly Cidr4[]> = {
  "10": [ONE_SEVEN_TWO, ONE_NINE_TWO],
  "172.16": [TEN, ONE_NINE_TWO],
  "192.168": [TEN, ONE_SEVEN_TWO],
  "198.19": [TEN, ONE_SEVEN_TWO, ONE_NINE_TWO],
  public: [TEN, ONE_SEVEN_TWO, ONE_NINE_TWO, BENCHMARK],
};

/** Refuses a block no VPC may have (loopback, link-local, multicast, ...). */
export function checkUsableVpcCidr(cidr: Cidr4): void {
  if (UNUSABLE.some((r) => cidrsOverlap(r, cidr))) {
    throw new Ec2Error("InvalidVpc.Range", `The CIDR '${formatCidr4(cidr)}' is reserved and cannot be used in a VPC.`);
  }
}

/** Refuses a secondary block from a range the primary CIDR's range excludes. */
export function checkSecondaryVpcCidr(primary: Cidr4, secondary: Cidr4): void {
  checkUsableVpcCidr(secondary);
  if (RESTRICTED[rangeOf(primary)].some((r) => cidrsOverlap(r, secondary))) {
    throw new Ec2Error(
      "InvalidVpc.Range",
      `The CIDR '${formatCidr4(secondary)}' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR.`,
    );
  }
}
