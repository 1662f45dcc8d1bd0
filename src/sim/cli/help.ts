// The text of `vpcsim --help` and of each command's --help.

export const HELP: Record<string, string> = {
  main: `vpcsim: a local AWS VPC (EC2 API, instance metadata, kernel datapath) for developing and testing vpc-cni.

Usage: vpcsim COMMAND [options]

Commands:
  up         create a VPC with subnets and instances, and start the emulator (--nodes N: a cluster)
  demo       the README's main job: a cluster, a Deployment of netexec pods, connectivity checks
  status     show the run's VPC, subnets, instances, ENIs and addresses
  exec       run a command inside an instance, with the AWS endpoint environment set
  launch     add an instance to a running VPC
  terminate  terminate an instance
  faults     inject or clear faults (throttling, 5xx, timeouts, slow attaches, address exhaustion)
  calls      show the EC2 call log
  kubeconfig print the path of the run's kubeconfig (its Kubernetes API, as kubernetes-admin)
  kubectl    run kubectl against the run's Kubernetes API
  apply      create or update the objects of manifests (-f FILE|DIR|-), as kubectl apply does
  delete     delete the objects of manifests (-f FILE|DIR|-)
  down       tear a run down (--all: every run, and whatever crashed runs left behind)

Every command takes --help. vpcsim needs root: it creates network namespaces.
Runs are named (--run NAME, or $VPCSIM_RUN); with one run up, commands find it themselves.`,
  up: `Usage: vpcsim up [--run NAME] [--profile instant|realistic] [--topology FILE | topology flags] [--kubelets] [--json]
       vpcsim up [--run NAME] [--profile P] --nodes N [--instance-type T] [--region R] [--ipv6] [--json]

Creates the VPC, its subnets and instances, starts the emulator and prints the run's state.

  --nodes N           a Kubernetes cluster of N nodes (1-20, m5.large unless --instance-type),
                      spread over two zones (subnets a and b), each with a public address; a
                      kubelet on each, the scheduler, and deploy/ applied (the CRDs and aws-node's
                      DaemonSet, whose pod runs vpc-cni's agent on every node). Waits until every
                      node is Ready (the agent has installed the CNI) and aws-node is available.
                      Builds the plugin and the agent (npm run build) first if dist/ lacks them. With --ipv6:
                      dual-stack subnets and aws-node in its IPv6 mode (ENABLE_IPv6): IPv6 pods
                      from one /80 per node, IPv4 egress through egress-cni.
  --instance-type T   the nodes' instance type (with --nodes)

  --run NAME          name of the run (1-12 lower-case letters/digits; default: default)
  --profile P         instant (default: EC2 acts at once) or realistic (ENI attach takes seconds,
                      IMDS lags, API latencies, EC2 throttling buckets on)
  --topology FILE     the topology as JSON (see README); or build it with flags:
  --region R          default us-east-1
  --vpc-cidr CIDR     default 10.0.0.0/16
  --ipv6              dual stack: the VPC gets an Amazon-provided IPv6 /56, every subnet a /64 of
                      it (the Nth subnet the /64 numbered N-1), every instance's primary ENI an
                      IPv6 address (eth0 has it, with the default route via the router's link-local)
  --subnet NAME=ZONE,CIDR[,ipv6]           repeatable, e.g. a=us-east-1a,10.0.0.0/20; ",ipv6"
                                           makes that one subnet (and the VPC) dual-stack
  --instance NAME=TYPE,SUBNET[,public]     repeatable, e.g. node-a=m5.large,a,public
  --kubelets          make every instance a Kubernetes node: a kubelet per instance (in its
                      namespace, registered as its private DNS name) and the scheduler; pods
                      need a CNI on the nodes (the agent writes its conflist) to start
  --json              print the state as JSON

Without topology flags: subnets a (us-east-1a, 10.0.0.0/20) and b (us-east-1b, 10.0.16.0/20),
instances node-a (m5.large in a, public address) and node-b (m5.large in b).
Inside instances: the EC2 API at http://192.0.2.10, IMDS at http://169.254.169.254, external
hosts whose echo servers (TCP 80 HTTP, TCP 7) answer with the address they saw: 203.0.113.10
(through the internet gateway's 1:1 NAT) and 2001:db8:ffff::10 (through the egress-only gateway).`,
  status: `Usage: vpcsim status [--run NAME] [--json]

Shows the run's VPC, subnets (with free addresses), instances and their ENIs and addresses.`,
  exec: `Usage: vpcsim exec [--run NAME] INSTANCE -- COMMAND [ARGS...]

Runs COMMAND inside the instance's network namespace (INSTANCE is its Name tag or instance id),
with AWS_REGION and AWS_ENDPOINT_URL_EC2 set and your AWS credentials, profiles and endpoint
settings removed (other AWS_* configuration, such as AWS_VPC_K8S_CNI_*, passes), so an AWS SDK
program runs unchanged and takes the instance role's credentials from IMDS. Signals sent to
vpcsim exec are passed on to COMMAND; it exits with the command's exit code.`,
  launch: `Usage: vpcsim launch [--run NAME] NAME --type TYPE --subnet SUBNET [--public]

Launches an instance (a new network namespace booted like an EC2 AMI) in a running VPC.
SUBNET is a subnet's name from the topology or its subnet id. In a dual-stack subnet the
instance is dual-stack: its primary ENI gets an IPv6 address, on eth0 from boot.`,
  terminate: `Usage: vpcsim terminate [--run NAME] INSTANCE

Terminates an instance: ENIs with DeleteOnTermination are deleted, others become available.`,
  faults: `Usage: vpcsim faults [--run NAME] SUBCOMMAND

  list                                     the faults in force
  add --action A --kind K [--probability P] [--count N] [--ms N] [--status S]
                                           K: throttle (RequestLimitExceeded), error (5xx; --status
                                           500 or 503), timeout (hold --ms, then drop the connection),
                                           latency (add --ms). A is an EC2 action or * for all.
                                           --probability 0..1 (default 1), --count: only the next N
  slow-attach --ms N [--detach-ms N]       ENI attach (and detach) take N ms from now on
  exhaust --subnet S [--count N]           hide N (default: all) free addresses of subnet S, as if
                                           other tenants used them; --count 0 lifts it
  throttling on|off [--scale X]            EC2's token buckets on or off; --scale multiplies them
  deny ACTION...                           UnauthorizedOperation for these actions (none: lift)
  clear                                    remove every fault and return to the profile's timings`,
  calls: `Usage: vpcsim calls [--run NAME] [--action A] [--outcome O] [--last N] [--counts] [--json]

The EC2 call log: every request with time, caller, action, outcome and latency.
--counts prints the number of calls per action and outcome instead.`,
  kubeconfig: `Usage: vpcsim kubeconfig [--run NAME]

Prints the path of the run's kubeconfig: its Kubernetes API server (through a forwarder on
127.0.0.1) as kubernetes-admin (group system:masters). Use it with any client:
  KUBECONFIG=$(vpcsim kubeconfig) kubectl get namespaces`,
  kubectl: `Usage: vpcsim kubectl [--run NAME] KUBECTL-ARGS...

Runs kubectl with the run's kubeconfig (see vpcsim kubeconfig), e.g. vpcsim kubectl get pods -A.
The kubectl is $VPCSIM_KUBECTL if set, else the first kubectl on PATH, else the Debian kubectl
that scripts/setup unpacks into .tools/. Exits with kubectl's exit code.`,
  demo: `Usage: vpcsim demo [--run NAME] [--keep] [--nodes N] [--replicas N] [--profile P] [--instance-type T] [--ipv6 | --custom-networking] [--json]

The README's main job (sudo npm start runs it): a cluster of N nodes (default 3, m5.large) over
two zones on the realistic profile (default; instant for a quick one), aws-node running on every
node as its DaemonSet's pod; a Deployment of N agnhost netexec pods (default 60: more than the
warm pools hold, so ENIs are attached while they start), with a live view of pods, ENIs,
addresses and EC2 calls (plain lines when stdout is not a terminal). Then the checks, each a real
request: pod to pod across nodes and zones (the receiver must see the sender's pod address),
pod to another node, pod to the internet (203.0.113.10 must see the node's public address);
each node's pool from its agent; the EC2 calls by action; and the teardown.

  --run NAME       the run's name (default demo)
  --keep           leave the cluster up afterwards, for vpcsim kubectl (vpcsim down --run NAME ends it)
  --timeout S      most seconds to wait for the nodes and for the pods (default 240)
  --ipv6           an IPv6 cluster: dual-stack nodes, pods with IPv6 addresses only (one /80 per
                   node, no EC2 call per pod); the same checks (pod to pod over IPv6, pod to node
                   and to 203.0.113.10 over IPv4 through egress-cni, as the node's address)
  --custom-networking  pods in a secondary VPC CIDR: 100.64.0.0/16 with a subnet per zone tagged
                   kubernetes.io/role/cni, aws-node with AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS=true
                   (no ENIConfig); 40 pods by default (the primary ENI carries none); the same checks,
                   and every pod's address must be in 100.64.0.0/16
                   (pod to pod and node without NAT, the internet through the node's SNAT)
  --json           the report as JSON on stdout (progress on stderr)

Exits 0 when every check passed, 1 otherwise. Scenario to come: --security-groups-for-pods
(refused until it exists).`,
  apply: `Usage: vpcsim apply [--run NAME] -f FILE|DIR|- [-f ...]

Creates or updates every object of the manifests (multi-document YAML or JSON; a List's items; a
directory's *.yaml, *.yml and *.json files) in the run's Kubernetes API, as kubectl apply does
(client-side: create, or a merge patch from the last-applied-configuration annotation): Pods,
Deployments, DaemonSets, ConfigMaps, ENIConfigs, any kind the server serves. Prints a line per
object (created, configured, unchanged); an object that fails does not stop the others; exits 1
if any failed.`,
  delete: `Usage: vpcsim delete [--run NAME] -f FILE|DIR|- [-f ...] [--cascade background|foreground|orphan]

Deletes every object of the manifests from the run's Kubernetes API (in reverse order). The
cascade is kubectl's: background (default: dependents such as a Deployment's ReplicaSets and pods
go after it), foreground (they go first) or orphan (they stay). Exits 1 if any object failed
(one that does not exist included).`,
  down: `Usage: vpcsim down [--run NAME] | --all

Stops the run's emulator and removes everything it created: namespaces, veths, processes (the
Kubernetes API forwarder included) and its directory under /run/vpcsim. --all does that for every run and also removes any namespace named
vs-* and any run directory that a crashed run left behind.`,
};
