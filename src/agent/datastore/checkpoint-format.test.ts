import { test } from "node:test";
import assert from "node:assert/strict";
import { CHECKPOINT_VERSION, CheckpointFormatError, decodeCheckpoint, encodeCheckpoint, goJsonString } from "./checkpoint-format.ts";

// What aws-node writes (json.NewEncoder(f).Encode): compact, Go field order,
// omitempty metadata fields, int64 nanoseconds, trailing newline.
const AWS_NODE_FILE =
  '{"version":"vpc-cni-ipam/1","allocations":[' +
  '{"networkName":"aws-cni","containerID":"3f1c9a1e0b7d4e2f8a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f","ifName":"eth0","ipv4":"192.168.29.140","allocationTimestamp":1718023456789012345,"metadata":{"k8sPodNamespace":"kube-system","k8sPodName":"coredns-5d78c9869d-abcde","interfacesCount":1}},' +
  '{"networkName":"aws-cni","containerID":"a0b1c2d3e4f5","ifName":"eth0","ipv4":"192.168.7.49","allocationTimestamp":1718023501000000001,"metadata":{"k8sPodNamespace":"default","k8sPodName":"nginx"}},' +
  '{"networkName":"_migrated-from-cri","containerID":"9e8d7c6b5a49","ifName":"unknown","ipv4":"192.168.30.5","allocationTimestamp":1609459200123456789,"metadata":{}}' +
  "]}\n";

test("decode keeps 19-digit nanosecond timestamps exact and encode reproduces aws-node's bytes", () => {
  const data = decodeCheckpoint(AWS_NODE_FILE);
  assert.equal(data.version, CHECKPOINT_VERSION);
  assert.equal(data.allocations.length, 3);
  assert.equal(data.allocations[0]?.allocationTimestamp, 1718023456789012345n);
  assert.notEqual(String(Number("1718023456789012345")), "1718023456789012345", "a Number would have lost it");
  assert.deepEqual(data.allocations[1], {
    networkName: "aws-cni",
    containerID: "a0b1c2d3e4f5",
    ifName: "eth0",
    ipv4: "192.168.7.49",
    allocationTimestamp: 1718023501000000001n,
    metadata: { k8sPodNamespace: "default", k8sPodName: "nginx" },
  });
  assert.deepEqual(data.allocations[2]?.metadata, {});
  assert.equal(encodeCheckpoint(data), AWS_NODE_FILE);
});

test("an empty checkpoint is an empty array, never null", () => {
  assert.equal(encodeCheckpoint({ version: CHECKPOINT_VERSION, allocations: [] }), '{"version":"vpc-cni-ipam/1","allocations":[]}\n');
});

test("ipv6 entries and omitempty: ipv4 absent, zero interfacesCount absent, metadata object always present", () => {
  const text = encodeCheckpoint({
    version: CHECKPOINT_VERSION,
    allocations: [
      { networkName: "aws-cni", containerID: "c", ifName: "eth0", ipv6: "2600:1f14::5", allocationTimestamp: 5n, metadata: { interfacesCount: 0 } },
    ],
  });
  assert.equal(
    text,
    '{"version":"vpc-cni-ipam/1","allocations":[{"networkName":"aws-cni","containerID":"c","ifName":"eth0","ipv6":"2600:1f14::5","allocationTimestamp":5,"metadata":{}}]}\n',
  );
});

test("strings are escaped as Go's encoder does, HTML escaping included", () => {
  assert.equal(goJsonString('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goJsonString("<x>&"), '"\\u003cx\\u003e\\u0026"');
  assert.equal(goJsonString("\b\f\n\r\t\u0001\u001f\u007f"), '"\\b\\f\\n\\r\\t\\u0001\\u001f\u007f"');
  assert.equal(goJsonString("\u2028\u2029"), '"\\u2028\\u2029"');
  assert.equal(goJsonString("é😀"), '"é😀"');
  assert.equal(goJsonString("x\ud800y"), '"x\\ufffdy"');
  for (const s of ["<>&", "\u2028", "tab\there", "é😀"]) assert.equal(JSON.parse(goJsonString(s)), s);
});

test("decode is as lenient as Go: unknown fields ignored, null as zero value, missing allocations", () => {
  const data = decodeCheckpoint(
    '{"version":"vpc-cni-ipam/1","future":{"x":[1,2]},"allocations":[' +
      '{"networkName":"aws-cni","containerID":"c1","ifName":null,"ipv4":"10.0.0.1","allocationTimestamp":null,"metadata":null,"k8sPodUID":"u","extra":1.5},' +
      '{"networkName":"aws-cni","containerID":"c2","ifName":"eth0","ipv4":"10.0.0.2","allocationTimestamp":-6795364578871345152,"metadata":{"k8sPodName":"p","interfacesCount":2,"labels":{}}}' +
      "]}",
  );
  assert.deepEqual(data.allocations[0], {
    networkName: "aws-cni",
    containerID: "c1",
    ifName: "",
    ipv4: "10.0.0.1",
    allocationTimestamp: 0n,
    metadata: {},
  });
  assert.equal(data.allocations[1]?.allocationTimestamp, -6795364578871345152n, "Go's zero time, as UnixNano gives it");
  assert.deepEqual(data.allocations[1]?.metadata, { k8sPodName: "p", interfacesCount: 2 });
  assert.deepEqual(decodeCheckpoint('{"version":"vpc-cni-ipam/1","allocations":null}').allocations, []);
  assert.deepEqual(decodeCheckpoint('{"version":"vpc-cni-ipam/1"}').allocations, []);
  assert.equal(decodeCheckpoint('{"allocations":[]}').version, "", "the version check is the caller's");
});

test("decode refuses what Go refuses, naming the file and the place", () => {
  const cases: [string, RegExp][] = [
    ['{"version":"vpc-cni-ipam/1","allocations":[{"allocationTimestamp":1.7e18}]}', /allocations\[0\]\.allocationTimestamp: expected an integer, found 1\.7e18/],
    ['{"version":"vpc-cni-ipam/1","allocations":[{"allocationTimestamp":"1718023456789012345"}]}', /expected an integer, found string/],
    ['{"version":"vpc-cni-ipam/1","allocations":[{"allocationTimestamp":9223372036854775808}]}', /out of range/],
    ['{"version":"vpc-cni-ipam/1","allocations":[{"ipv4":10}]}', /allocations\[0\]\.ipv4: expected a string/],
    ['{"version":"vpc-cni-ipam/1","allocations":[{"metadata":{"interfacesCount":"1"}}]}', /metadata\.interfacesCount/],
    ['{"version":"vpc-cni-ipam/1","allocations":{}}', /allocations: expected an array/],
    ['{"version":"vpc-cni-ipam/1","allocations":[7]}', /allocations\[0\]: expected an object/],
    ['{"version":1}', /checkpoint\.version: expected a string/],
    ["[]", /top level: expected an object/],
    ["", /not valid JSON/],
    ['{"version":"vpc-cni-ipam/1","allocations":[{"networkName":"aws-cni","contai', /not valid JSON \(truncated or corrupt\?\)/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => decodeCheckpoint(text, "/var/run/aws-node/ipam.json"),
      (err: unknown) =>
        err instanceof CheckpointFormatError && err.message.startsWith("/var/run/aws-node/ipam.json: ") && message.test(err.message),
      text,
    );
  }
});
