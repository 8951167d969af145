import { test } from "node:test";
import assert from "node:assert/strict";
import { CidrSet, ERR_CIDR_RANGE_NO_CIDRS_REMAINING, formatIpv4Cidr, parseIpv4Cidr } from "./cidr_set.js";

test("parseIpv4Cidr: masks the address to its network and rejects malformed text", () => {
  assert.equal(formatIpv4Cidr(parseIpv4Cidr("10.244.3.7/16")), "10.244.0.0/16");
  assert.equal(formatIpv4Cidr(parseIpv4Cidr("0.0.0.0/0")), "0.0.0.0/0");
  for (const bad of ["10.244.0.0", "10.256.0.0/16", "10.0.0.0/33", "fd00::/64"]) assert.throws(() => parseIpv4Cidr(bad), /invalid CIDR address/);
});

test("CidrSet: hands out /24s of a /16 in order, going round past released ones", () => {
  const s = new CidrSet("10.244.0.0/16", 24);
  assert.equal(s.subnets, 256);
  assert.equal(s.allocateNext(), "10.244.0.0/24");
  assert.equal(s.allocateNext(), "10.244.1.0/24");
  s.release("10.244.0.0/24");
  assert.equal(s.allocateNext(), "10.244.2.0/24");
  assert.equal(s.allocated, 2);
});

test("CidrSet: occupied subnets are skipped and a full set fails with upstream's error", () => {
  const s = new CidrSet("10.0.0.0/30", 31);
  s.occupy("10.0.0.0/31");
  assert.equal(s.allocateNext(), "10.0.0.2/31");
  assert.throws(() => s.allocateNext(), new RegExp(ERR_CIDR_RANGE_NO_CIDRS_REMAINING));
  s.release("10.0.0.0/31");
  assert.equal(s.allocateNext(), "10.0.0.0/31");
});

test("CidrSet: occupying a larger range (a service CIDR) takes every subnet inside it; outside ranges are ignored", () => {
  const s = new CidrSet("10.244.0.0/16", 24);
  s.occupy("10.244.0.0/22");
  assert.equal(s.allocated, 4);
  assert.equal(s.allocateNext(), "10.244.4.0/24");
  s.occupy("10.96.0.0/12");
  assert.equal(s.allocated, 5);
  assert.equal(s.contains("10.244.9.0/24"), true);
  assert.equal(s.contains("10.245.0.0/24"), false);
  assert.equal(s.contains("10.244.0.0/25"), false);
});

test("CidrSet: a node mask smaller than the cluster's, or more than 16 bits apart, is refused", () => {
  assert.throws(() => new CidrSet("10.244.0.0/16", 8), /node-cidr-mask-size/);
  assert.throws(() => new CidrSet("10.0.0.0/8", 25), /more than 16 bits/);
});
