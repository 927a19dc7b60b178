#!/usr/bin/env bash
# End to end on kind, for machines with Docker: builds the operator image and a simulator image,
# loads both into a kind cluster, installs the chart with the simulator as a sidecar of the
# operator (it listens on loopback only), applies examples/ bound to it (scripts/e2e-sim.ts writes
# them) and waits until every object is Ready. Needs docker, kind, helm, kubectl and git.
# Not part of npm test (no Docker there). CLUSTER=name picks the kind cluster (default
# vcd-operator-e2e, created when missing and left running: kind delete cluster --name ...).
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER="${CLUSTER:-vcd-operator-e2e}"
NS=vcd-operator-system
say() { printf '[e2e] %s\n' "$*" >&2; }

say "building vcd-operator:e2e"
docker build -t vcd-operator:e2e .
say "building vcd-operator-sim:e2e (the operator image leaves the simulator out)"
ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
git archive HEAD | tar -x -C "$ctx"
rm -f "$ctx/.dockerignore"  # it keeps the simulator out of the operator image
docker build -t vcd-operator-sim:e2e -f - "$ctx" <<'DOCKERFILE'
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
COPY scripts ./scripts
COPY examples ./examples
USER 65532:65532
ENTRYPOINT ["node", "scripts/e2e-sim.ts", "/sim/examples.yaml"]
DOCKERFILE

kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER"
kind load docker-image vcd-operator:e2e vcd-operator-sim:e2e --name "$CLUSTER"
export KUBECONFIG="$ctx/kubeconfig"
kind get kubeconfig --name "$CLUSTER" >"$KUBECONFIG"

say "helm install, with the simulator as a sidecar"
helm upgrade --install vcd-operator charts/vcd-operator --namespace "$NS" --create-namespace \
  --set image.repository=vcd-operator --set image.tag=e2e --set image.pullPolicy=Never --set replicaCount=1
kubectl -n "$NS" patch deployment vcd-operator --type=strategic -p '{"spec":{"template":{"spec":{
  "volumes":[{"name":"sim","emptyDir":{}}],
  "containers":[{"name":"sim","image":"vcd-operator-sim:e2e","imagePullPolicy":"Never",
    "volumeMounts":[{"name":"sim","mountPath":"/sim"}]}]}}}}'
kubectl -n "$NS" rollout status deployment/vcd-operator --timeout=5m
pod="$(kubectl -n "$NS" get pod -l app.kubernetes.io/name=vcd-operator --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')"

say "applying examples/ bound to the simulator in $pod"
until kubectl -n "$NS" exec "$pod" -c sim -- test -s /sim/examples.yaml; do sleep 1; done
kubectl -n "$NS" exec "$pod" -c sim -- cat /sim/examples.yaml | kubectl apply -f -

say "waiting until everything is Ready"
kubectl wait vcd --all --all-namespaces --for=condition=Ready --timeout=5m
kubectl get vcd -A
say "done"
