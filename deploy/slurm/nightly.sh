#!/usr/bin/env bash
# One night on Slurm: the shard array, then the score step once every task has
# ended (afterany: a shard that ends with failed calls has still done its part;
# one that crashed shows in sacct, and rerunning its index then scoring again
# completes the night).
#   CALLQA_INPUT=/calls/2026-11-20 CALLQA_OUT=/shared/qa deploy/slurm/nightly.sh
set -euo pipefail
cd "$(dirname "$0")"
export CALLQA_INPUT CALLQA_OUT
array=$(sbatch --parsable --export=ALL shards.sbatch)
sbatch --parsable --export=ALL --dependency=afterany:"${array}" score.sbatch
