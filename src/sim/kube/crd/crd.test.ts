// CustomResourceDefinitions end to end with client-node: vpc-cni's own CRDs from deploy/ applied as
// vpcsim applies them, served at once and in discovery, custom resources pruned, defaulted and
// validated by their structural schemas (422), status subresources, conflicts, no strategic merge
// patch (415), and a deleted CRD taking its custom resources with it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ApiextensionsV1Api, ApisApi, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { eventually, REPO, startTestServer, type TestServer } from "../kube.test-support.ts";
import { applyObjects, loadManifests } from "../apply.ts";

async function failure(promise: Promise<unknown>): Promise<{ code: number; reason: string; message: string; details?: { causes?: { field: string; reason: string; message: string }[] } }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code: number; body: string };
    return JSON.parse(e.body);
  }
  assert.fail("the call succeeded");
}

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("custom resources", () => {
  let ts: TestServer;
  let custom: CustomObjectsApi;
  before(async () => {
    ts = await startTestServer();
    custom = ts.admin.makeApiClient(CustomObjectsApi);
    const crds = loadManifests(join(REPO, "deploy")).filter((o) => o.kind === "CustomResourceDefinition");
    assert.equal(crds.length, 3);
    const applied = await applyObjects(ts.server.client, crds);
    assert.deepEqual(applied.map((a) => a.action), ["created", "created", "created"]);
  });
  after(() => ts.close());

  test("applied CRDs are served at once, listed in discovery and marked Established", async () => {
    const groups = await ts.admin.makeApiClient(ApisApi).getAPIVersions();
    const names = groups.groups.map((g) => g.name);
    assert.ok(names.includes("crd.k8s.amazonaws.com") && names.includes("vpcresources.k8s.aws"), names.join(","));
    const ext = ts.admin.makeApiClient(ApiextensionsV1Api);
    const crd = await eventually(async () => {
      const c = await ext.readCustomResourceDefinition({ name: "eniconfigs.crd.k8s.amazonaws.com" });
      return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") ? c : undefined;
    }, "Established");
    assert.deepEqual(crd.metadata?.finalizers, ["customresourcecleanup.apiextensions.k8s.io"]);
    assert.deepEqual(crd.status?.storedVersions, ["v1alpha1"]);
    const again = await applyObjects(ts.server.client, loadManifests(join(REPO, "deploy")).filter((o) => o.kind === "CustomResourceDefinition"));
    assert.deepEqual(again.map((a) => a.action), ["unchanged", "unchanged", "unchanged"], "applying the same manifests again changes nothing");
  });

  test("a custom resource: created, pruned of unknown fields (with a warning), listed with its apiVersion and kind", async () => {
    const created = (await custom.createClusterCustomObject({
      group: "crd.k8s.amazonaws.com",
      version: "v1alpha1",
      plural: "eniconfigs",
      body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "us-east-1a" }, spec: { subnet: "subnet-0abc", securityGroups: ["sg-01"], bogus: 1 } },
    })) as { metadata: { resourceVersion: string; generation: number }; spec: Record<string, unknown> };
    assert.deepEqual(created.spec, { subnet: "subnet-0abc", securityGroups: ["sg-01"] });
    assert.equal(created.metadata.generation, 1);
    const list = (await custom.listClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs" })) as { items: { apiVersion: string; kind: string }[] };
    assert.deepEqual(list.items.map((i) => [i.apiVersion, i.kind]), [["crd.k8s.amazonaws.com/v1alpha1", "ENIConfig"]]);
    const strict = await failure(
      custom.createClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", fieldValidation: "Strict", body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "b" }, spec: { subnet: "subnet-1", bogus: 1 } } }),
    );
    assert.equal(strict.code, 400);
    assert.match(strict.message, /strict decoding error: unknown field "spec.bogus"/);
  });

  test("the structural schema is enforced: types, patterns and required fields are 422 Invalid", async () => {
    const bad = await failure(
      custom.createClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "bad" }, spec: { subnet: "not-a-subnet", securityGroups: "sg-1" } } }),
    );
    assert.equal(bad.code, 422);
    assert.equal(bad.reason, "Invalid");
    assert.deepEqual(bad.details?.causes?.map((c) => c.field).sort(), ["spec.securityGroups", "spec.subnet"]);
    assert.match(bad.message, /spec.subnet in body should match '\^subnet-\[0-9a-f\]\+\$'/);
    assert.match(bad.message, /spec.securityGroups in body must be of type array: "string"/);
    const missing = await failure(custom.createClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "m" }, spec: {} } }));
    assert.equal(missing.code, 422);
    assert.match(missing.message, /spec.subnet: Required value/);
  });

  test("CNINode: status subresource, merge patch with a resourceVersion precondition (409), no strategic merge (415)", async () => {
    await custom.createClusterCustomObject({ group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", body: { apiVersion: "vpcresources.k8s.aws/v1alpha1", kind: "CNINode", metadata: { name: "node-a" }, spec: {} } });
    const current = (await custom.getClusterCustomObject({ group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", name: "node-a" })) as { metadata: { resourceVersion: string } };
    const patched = (await custom.patchClusterCustomObject(
      { group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", name: "node-a", body: { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { features: [{ name: "SecurityGroupsForPods" }] } } },
      merge,
    )) as { spec: { features: unknown[] } };
    assert.equal(patched.spec.features.length, 1);
    const stale = await failure(
      custom.patchClusterCustomObject({ group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", name: "node-a", body: { metadata: { resourceVersion: current.metadata.resourceVersion }, spec: { features: [] } } }, merge),
    );
    assert.equal(stale.code, 409);
    const strategic = await failure(
      custom.patchClusterCustomObject({ group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", name: "node-a", body: { spec: {} } }, setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch)),
    );
    assert.equal(strategic.code, 415);
    assert.match(strategic.message, /accepted media types include: application\/json-patch\+json, application\/merge-patch\+json/);
    const noVersion = await failure(ts.server.client.update({ apiVersion: "vpcresources.k8s.aws/v1alpha1", kind: "CNINode", metadata: { name: "node-a" }, spec: {} }).then(() => undefined).catch((e) => Promise.reject({ code: e.code, body: JSON.stringify(e.status) })));
    assert.equal(noVersion.code, 422, "a custom resource update needs a resourceVersion");
  });

  test("a CRD with status and scale subresources: writes to the object ignore status, /status changes only status, /scale", async () => {
    const ext = ts.admin.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: "widgets.example.com" },
        spec: {
          group: "example.com",
          scope: "Namespaced",
          names: { plural: "widgets", kind: "Widget", shortNames: ["wd"] },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              subresources: { status: {}, scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" } },
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: { type: "object", properties: { replicas: { type: "integer", minimum: 0, _default: 1 }, color: { type: "string", _enum: ["red", "blue"] } } },
                    status: { type: "object", properties: { replicas: { type: "integer" } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const w = { group: "example.com", version: "v1", plural: "widgets", namespace: "default" };
    const created = (await custom.createNamespacedCustomObject({ ...w, body: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1" }, spec: { color: "red" }, status: { replicas: 9 } } })) as any;
    assert.equal(created.spec.replicas, 1, "the schema's default");
    assert.equal(created.status, undefined, "status is dropped on create with a status subresource");
    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({ ...w, name: "w1", body: { ...created, spec: { color: "blue", replicas: 5 }, status: { replicas: 1 } } })) as any;
    assert.deepEqual([withStatus.spec.color, withStatus.status.replicas, withStatus.metadata.generation], ["red", 1, 1]);
    const main = (await custom.replaceNamespacedCustomObject({ ...w, name: "w1", body: { ...withStatus, spec: { color: "blue", replicas: 1 }, status: { replicas: 7 } } })) as any;
    assert.deepEqual([main.spec.color, main.status.replicas, main.metadata.generation], ["blue", 1, 2]);
    const scaled = (await custom.patchNamespacedCustomObjectScale({ ...w, name: "w1", body: { spec: { replicas: 3 } } }, merge)) as any;
    assert.deepEqual([scaled.kind, scaled.spec.replicas, scaled.status.replicas], ["Scale", 3, 1]);
    const enumBad = await failure(custom.patchNamespacedCustomObject({ ...w, name: "w1", body: { spec: { color: "green" } } }, merge));
    assert.equal(enumBad.code, 422);
    assert.match(enumBad.message, /Unsupported value: "green": supported values: "red", "blue"/);
  });

  test("deleting a CRD deletes its custom resources, refuses new ones meanwhile, then stops serving it", async () => {
    const crd = loadManifests(join(REPO, "deploy", "crd-eniconfigs.yaml"))[0]!;
    const ext = ts.admin.makeApiClient(ApiextensionsV1Api);
    await custom.createClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "held", finalizers: ["example.com/hold"] }, spec: { subnet: "subnet-1" } } });
    await ext.deleteCustomResourceDefinition({ name: crd.metadata.name! });
    await eventually(async () => ((await custom.getClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", name: "held" })) as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp, "the held resource to be deleting");
    const refused = await failure(custom.createClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "late" }, spec: { subnet: "subnet-1" } } }));
    assert.equal(refused.code, 405);
    assert.ok(await ext.readCustomResourceDefinition({ name: crd.metadata.name! }), "the CRD waits for its resources");
    await custom.patchClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", name: "held", body: { metadata: { finalizers: null } } }, merge);
    await eventually(() => (ts.server.registry.lookup("crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs") ? undefined : true), "the CRD to stop being served");
    const gone = await failure(ext.readCustomResourceDefinition({ name: crd.metadata.name! }));
    assert.equal(gone.code, 404);
    const unserved = await failure(custom.listClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs" }));
    assert.equal(unserved.code, 404);
  });

  test("a CRD that is not structural, or not named plural.group, is 422", async () => {
    const ext = ts.admin.makeApiClient(ApiextensionsV1Api);
    const bad = await failure(
      ext.createCustomResourceDefinition({
        body: {
          metadata: { name: "widgets.example.com" },
          spec: { group: "example.com", scope: "Namespaced", names: { plural: "gadgets", kind: "Gadget" }, versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: {} } } } }] },
        },
      }),
    );
    assert.equal(bad.code, 422);
    assert.deepEqual(bad.details?.causes?.map((c) => c.field).sort(), ["metadata.name", "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"]);
  });
});
