#!/usr/bin/env bash
# One night on Slurm: the shard array, then the score step once every task has
# ended (afterany: a shard that ends with failed calls has still done its part;
# one that crashed shows in sacct, and rerunning its index then scoring again
# completes the night).
#
#   CALLQA_INPUT=/calls/2026-11-20 CALLQA_OUT=/shared/qa deploy/slurm/nightly.sh [sbatch options]
#   … deploy/slurm/nightly.sh --partition=qa -c 4 --mem=8G --array=0-15
#
# Its own arguments go to both sbatch calls, before the scripts' #SBATCH lines
# (which they override): the partition, the CPUs and memory of a task, the time
# limit. --array (-a) goes to the shard array only: it is the number of shards.
# Each shard computes on the CPUs its task was given (shards.sbatch passes
# SLURM_CPUS_PER_TASK to callqa as its thread budget). Logs go to the folder
# this is run from. Prints the score job's id last, for a caller to wait on.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CALLQA_INPUT:?folder or manifest of the calls of the night}" "${CALLQA_OUT:?shared output folder}"
export CALLQA_INPUT CALLQA_OUT
both=()
shards_only=()
while (($#)); do
  case $1 in
    --array=*|-a?*) shards_only+=("$1") ;;
    --array|-a) shards_only+=("$1" "${2:?$1 needs a value}"); shift ;;
    *) both+=("$1") ;;
  esac
  shift
done
array=$(sbatch --parsable --export=ALL "${both[@]}" "${shards_only[@]}" "$here/shards.sbatch")
array=${array%%;*}
score=$(sbatch --parsable --export=ALL "${both[@]}" --dependency=afterany:"$array" "$here/score.sbatch")
score=${score%%;*}
echo "callqa: shard array job $array, score job $score (after the array)" >&2
echo "$score"
