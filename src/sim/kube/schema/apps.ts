// apps/v1 shapes: Deployment, ReplicaSet, DaemonSet, ControllerRevision, and autoscaling/v1 Scale.

import { s, type TypeSchema } from "./types.ts";
import { kindSchema, labelSelector } from "./meta.ts";
import { podTemplateSpec } from "./core-pod.ts";

const APPS = "io.k8s.api.apps.v1";
const o = (name: string, description: string, properties: Record<string, TypeSchema>, extra: Partial<TypeSchema> = {}) => s.object(`${APPS}.${name}`, description, properties, extra);
const apps = (kind: string, description: string, properties: Record<string, TypeSchema>) => kindSchema(`${APPS}.${kind}`, { group: "apps", version: "v1", kind }, description, properties);

const workloadCondition = (name: string, description: string, heartbeat: boolean) =>
  o(name, description, {
    ...(heartbeat ? { lastUpdateTime: s.time("The last time this condition was updated.") } : {}),
    lastTransitionTime: s.time("Last time the condition transitioned from one status to another."),
    message: s.string("A human readable message indicating details about the transition."),
    reason: s.string("The reason for the condition's last transition."),
    status: s.string("Status of the condition, one of True, False, Unknown."),
    type: s.string("Type of the condition."),
  }, { required: ["type", "status"] });

const selector = s.described(labelSelector, "Label selector for pods. Existing workloads whose pods are selected by this will be the ones affected by this one. It must match the pod template's labels.");
const template = s.described(podTemplateSpec, "Template describes the pods that will be created.");

export const deploymentSchema = apps("Deployment", "Deployment enables declarative updates for Pods and ReplicaSets.", {
  spec: o("DeploymentSpec", "DeploymentSpec is the specification of the desired behavior of the Deployment.", {
    minReadySeconds: s.int32("Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0."),
    paused: s.bool("Indicates that the deployment is paused."),
    progressDeadlineSeconds: s.int32("The maximum time in seconds for a deployment to make progress before it is considered to be failed. Defaults to 600s."),
    replicas: s.int32("Number of desired pods. Defaults to 1."),
    revisionHistoryLimit: s.int32("The number of old ReplicaSets to retain to allow rollback. Defaults to 10."),
    selector,
    strategy: o("DeploymentStrategy", "DeploymentStrategy describes how to replace existing pods with new ones.", {
      rollingUpdate: o("RollingUpdateDeployment", "Spec to control the desired behavior of rolling update.", {
        maxSurge: s.intOrString("The maximum number of pods that can be scheduled above the desired number of pods. Defaults to 25%."),
        maxUnavailable: s.intOrString("The maximum number of pods that can be unavailable during the update. Defaults to 25%."),
      }),
      type: s.enumOf(["Recreate", "RollingUpdate"], "Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is RollingUpdate."),
    }, { patchStrategy: "retainKeys" }),
    template,
  }, { required: ["selector", "template"] }),
  status: o("DeploymentStatus", "DeploymentStatus is the most recently observed status of the Deployment.", {
    availableReplicas: s.int32("Total number of available non-terminating pods targeted by this deployment."),
    collisionCount: s.int32("Count of hash collisions for the Deployment."),
    conditions: s.mergeList(workloadCondition("DeploymentCondition", "DeploymentCondition describes the state of a deployment at a certain point.", true), "type", "Represents the latest available observations of a deployment's current state."),
    observedGeneration: s.int64("The generation observed by the deployment controller."),
    readyReplicas: s.int32("Total number of non-terminating pods targeted by this Deployment with a Ready Condition."),
    replicas: s.int32("Total number of non-terminating pods targeted by this deployment (their labels match the selector)."),
    terminatingReplicas: s.int32("Total number of terminating pods targeted by this deployment."),
    unavailableReplicas: s.int32("Total number of unavailable pods targeted by this deployment."),
    updatedReplicas: s.int32("Total number of non-terminating pods targeted by this deployment that have the desired template spec."),
  }),
});

export const replicaSetSchema = apps("ReplicaSet", "ReplicaSet ensures that a specified number of pod replicas are running at any given time.", {
  spec: o("ReplicaSetSpec", "ReplicaSetSpec is the specification of a ReplicaSet.", {
    minReadySeconds: s.int32("Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available."),
    replicas: s.int32("Replicas is the number of desired pods. Defaults to 1."),
    selector,
    template,
  }, { required: ["selector"] }),
  status: o("ReplicaSetStatus", "ReplicaSetStatus represents the current status of a ReplicaSet.", {
    availableReplicas: s.int32("The number of available non-terminating pods (ready for at least minReadySeconds) for this replica set."),
    conditions: s.mergeList(workloadCondition("ReplicaSetCondition", "ReplicaSetCondition describes the state of a replica set at a certain point.", false), "type", "Represents the latest available observations of a replica set's current state."),
    fullyLabeledReplicas: s.int32("The number of non-terminating pods that have labels matching the labels of the pod template of the replicaset."),
    observedGeneration: s.int64("ObservedGeneration reflects the generation of the most recently observed ReplicaSet."),
    readyReplicas: s.int32("The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."),
    replicas: s.int32("Replicas is the most recently observed number of non-terminating pods."),
    terminatingReplicas: s.int32("The number of terminating pods for this replica set."),
  }, { required: ["replicas"] }),
});

export const daemonSetSchema = apps("DaemonSet", "DaemonSet represents the configuration of a daemon set.", {
  spec: o("DaemonSetSpec", "DaemonSetSpec is the specification of a daemon set.", {
    minReadySeconds: s.int32("The minimum number of seconds for which a newly created DaemonSet pod should be ready without any of its container crashing, for it to be considered available."),
    revisionHistoryLimit: s.int32("The number of old history to retain to allow rollback. Defaults to 10."),
    selector,
    template,
    updateStrategy: o("DaemonSetUpdateStrategy", "DaemonSetUpdateStrategy is a struct used to control the update strategy for a DaemonSet.", {
      rollingUpdate: o("RollingUpdateDaemonSet", "Spec to control the desired behavior of daemon set rolling update.", {
        maxSurge: s.intOrString("The maximum number of nodes with an existing available DaemonSet pod that can have an updated DaemonSet pod during during an update. Defaults to 0."),
        maxUnavailable: s.intOrString("The maximum number of DaemonSet pods that can be unavailable during the update. Defaults to 1."),
      }),
      type: s.enumOf(["OnDelete", "RollingUpdate"], "Type of daemon set update. Can be \"RollingUpdate\" or \"OnDelete\". Default is RollingUpdate."),
    }),
  }, { required: ["selector", "template"] }),
  status: o("DaemonSetStatus", "DaemonSetStatus represents the current status of a daemon set.", {
    collisionCount: s.int32("Count of hash collisions for the DaemonSet."),
    conditions: s.mergeList(workloadCondition("DaemonSetCondition", "DaemonSetCondition describes the state of a DaemonSet at a certain point.", false), "type", "Represents the latest available observations of a DaemonSet's current state."),
    currentNumberScheduled: s.int32("The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
    desiredNumberScheduled: s.int32("The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod)."),
    numberAvailable: s.int32("The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
    numberMisscheduled: s.int32("The number of nodes that are running the daemon pod, but are not supposed to run the daemon pod."),
    numberReady: s.int32("numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
    numberUnavailable: s.int32("The number of nodes that should be running the daemon pod and have none of the daemon pod running and available."),
    observedGeneration: s.int64("The most recent generation observed by the daemon set controller."),
    updatedNumberScheduled: s.int32("The total number of nodes that are running updated daemon pod"),
  }, { required: ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"] }),
});

export const controllerRevisionSchema = apps("ControllerRevision", "ControllerRevision implements an immutable snapshot of state data.", {
  data: s.any("Data is the serialized representation of the state."),
  revision: s.int64("Revision indicates the revision of the state represented by Data."),
});

export const scaleSchema = kindSchema("io.k8s.api.autoscaling.v1.Scale", { group: "autoscaling", version: "v1", kind: "Scale" }, "Scale represents a scaling request for a resource.", {
  spec: s.object("io.k8s.api.autoscaling.v1.ScaleSpec", "ScaleSpec describes the attributes of a scale subresource.", { replicas: s.int32("replicas is the desired number of instances for the scaled object.") }),
  status: s.object("io.k8s.api.autoscaling.v1.ScaleStatus", "ScaleStatus represents the current status of a scale subresource.", {
    replicas: s.int32("replicas is the actual number of observed instances of the scaled object."),
    selector: s.string("selector is the label query over pods that should match the replicas count."),
  }, { required: ["replicas"] }),
});
