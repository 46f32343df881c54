#!/usr/bin/env bash
# One night on Kubernetes: the shards, then the score step. Run it from cron
# or a CI scheduler with kubectl pointed at the cluster.
#   NIGHT=2026-11-20 deploy/kubernetes/nightly.sh
set -euo pipefail
cd "$(dirname "$0")"
night="${NIGHT:?set NIGHT to the recordings folder under /data/recordings}"
kubectl apply -f volume.yaml
kubectl delete job callqa-shards callqa-score --ignore-not-found
sed "s/value: \"2026-11-20\"/value: \"${night}\"/" shards-job.yaml | kubectl apply -f -
kubectl wait --for=condition=complete job/callqa-shards --timeout=10h
kubectl apply -f score-job.yaml
kubectl wait --for=condition=complete job/callqa-score --timeout=1h
kubectl logs job/callqa-score | tail -n 1
