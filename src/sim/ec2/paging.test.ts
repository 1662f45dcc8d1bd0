import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPageParameters, encodeToken, paginate, type PagingRules } from "./paging.ts";
import { expectEc2Error } from "./model.test-support.ts";

const rules: PagingRules = { action: "DescribeThings", min: 5, max: 1000, idsExcludeMaxResults: { idsParameter: "thingSet" } };
const items = Array.from({ length: 12 }, (_, i) => ({ seq: i * 2 }));
const seq = (i: { seq: number }) => i.seq;

test("pages walk every item once, in order", () => {
  const seen: number[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = paginate(items, seq, { maxResults: 5, ...(token ? { nextToken: token } : {}) }, rules);
    seen.push(...page.items.map(seq));
    token = page.nextToken;
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(seen, items.map(seq));
});

test("no MaxResults returns everything and no token; exact fit returns no token", () => {
  assert.equal(paginate(items, seq, {}, rules).items.length, 12);
  assert.equal(paginate(items, seq, {}, rules).nextToken, undefined);
  assert.equal(paginate(items.slice(0, 5), seq, { maxResults: 5 }, rules).nextToken, undefined);
});

test("the cursor survives deletion of the last item returned", () => {
  const first = paginate(items, seq, { maxResults: 5 }, rules);
  const remaining = items.filter((i) => i.seq !== 8); // the 5th item, where the cursor points
  const second = paginate(remaining, seq, { maxResults: 5, nextToken: first.nextToken as string }, rules);
  assert.deepEqual(second.items.map(seq), [10, 12, 14, 16, 18]);
});

test("invalid tokens are refused", () => {
  for (const bad of ["garbage!", "e30", encodeToken("DescribeOther", 3), Buffer.from('{"a":"DescribeThings","s":-1}').toString("base64url")]) {
    expectEc2Error(() => paginate(items, seq, { maxResults: 5, nextToken: bad }, rules), "InvalidParameterValue", /token/);
  }
});

test("MaxResults bounds and the ids combination", () => {
  expectEc2Error(() => checkPageParameters({ maxResults: 4 }, rules, false), "InvalidParameterValue", /maxResults/);
  expectEc2Error(() => checkPageParameters({ maxResults: 1001 }, rules, false), "InvalidParameterValue");
  expectEc2Error(() => checkPageParameters({ maxResults: 5.5 }, rules, false), "InvalidParameterValue");
  checkPageParameters({ maxResults: 5 }, rules, false);
  checkPageParameters({ maxResults: 1000 }, rules, false);
  expectEc2Error(() => checkPageParameters({ maxResults: 10 }, rules, true), "InvalidParameterCombination", /thingSet/);
  checkPageParameters({ maxResults: 10 }, { ...rules, idsExcludeMaxResults: undefined }, true) as void;
});
