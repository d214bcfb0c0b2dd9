#!/bin/bash
# Submits every evaluation of "Capitalization LoRA Rank Sweep (Llama-3.2-1B)" at the right time.
#
# A cell whose checkpoint exists is submitted now. A cell whose checkpoint does not exist
# yet is chained to its run's fine-tuning job (found in squeue by the job name in the
# run's finetune.slurm, or given with --after RUN=JOBID): it starts when training succeeds
# and is cancelled if training fails. Base-model cells are submitted now.
#
# Usage: ./submit_evals.sh [--dry-run] [--only-missing] [--run RUN] [--task TASK]
#                          [--epoch N|base] [--after RUN=JOBID]...
#   --dry-run       print the sbatch commands, submit nothing
#   --only-missing  skip cells that already have a finished inspect log
#   --run, --task, --epoch  submit only the matching cells (each may be repeated)
#   --after RUN=JOBID       chain RUN's cells to this fine-tuning job
#
# Rendered by copier-inspect-slurm; needs only bash and Slurm's sbatch and squeue.

set -uo pipefail

EXPERIMENT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# One line per cell of the plan: run directory, run name, task, epoch (or base), checkpoint.
plan() {
  cell r8_lr1e-5 r8_lr1e-5 capitalization 0 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_0
  cell r8_lr1e-5 r8_lr1e-5 capitalization 1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_1
  cell r8_lr1e-5 r8_lr1e-5 capitalization_6L 1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r8_lr1e-5/epoch_1
  cell r16_lr1e-5 r16_lr1e-5 capitalization 0 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r16_lr1e-5/epoch_0
  cell r16_lr1e-5 r16_lr1e-5 capitalization 1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r16_lr1e-5/epoch_1
  cell r16_lr1e-5 r16_lr1e-5 capitalization_6L 1 /scratch/gpfs/MSALGANIK/mjs3/ck-outputs/ck-out-r16_lr1e-5/epoch_1
  cell Llama-3.2-1B-Instruct_base Llama-3.2-1B-Instruct_base capitalization base /scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct
  cell Llama-3.2-1B-Instruct_base Llama-3.2-1B-Instruct_base capitalization_6L base /scratch/gpfs/MSALGANIK/pretrained-llms/Llama-3.2-1B-Instruct
}

usage() {
  sed -n '9,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

dry_run=0
only_missing=0
runs=()
tasks=()
epochs=()
declare -A after=()

# Options that take a value: exit 2, like the other usage errors, when it is missing.
needs_value() {
  if [ $# -lt 2 ]; then
    echo "error: $1 needs a value" >&2
    exit 2
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --only-missing) only_missing=1 ;;
    --run) needs_value "$@"; runs+=("$2"); shift ;;
    --task) needs_value "$@"; tasks+=("$2"); shift ;;
    --epoch) needs_value "$@"; epochs+=("$2"); shift ;;
    --after)
      needs_value "$@"
      case "$2" in
        ?*=[0-9]*) after["${2%%=*}"]="${2#*=}" ;;
        *) echo "error: --after takes RUN=JOBID, got '$2'" >&2; exit 2 ;;
      esac
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

submitted=0
chained=0
skipped=0
failed=0
declare -A seen=()

# True when the filter list is empty or holds the value.
selected() {
  local value=$1
  shift
  [ $# -eq 0 ] && return 0
  local wanted
  for wanted in "$@"; do
    [ "$wanted" = "$value" ] && return 0
  done
  return 1
}

# True when the cell's eval script finished and its inspect log is still there.
# Logs are named {timestamp}_{cell}_{id}.eval (see INSPECT_EVAL_LOG_FILE_PATTERN).
finished() {
  local logs=$1 name=$2 log rest
  [ -e "$logs/.$name.complete" ] || return 1
  for log in "$logs"/*.eval; do
    [ -e "$log" ] || continue
    rest=${log##*/}
    rest=${rest#*_}
    if [[ "$rest" == "${name}_"* && "${rest#"${name}_"}" != *_* ]]; then
      return 0
    fi
  done
  return 1
}

# The job name the run's finetune.slurm gives its job (the run's name when it says none).
finetune_job_name() {
  local run_dir=$1 run_name=$2 line
  line=$(grep -m1 -E '^#SBATCH[[:space:]]+(--job-name[=[:space:]]|-J[[:space:]]*)' \
    "$EXPERIMENT_DIR/$run_dir/finetune.slurm" 2>/dev/null)
  line=${line#*--job-name}
  line=${line#*-J}
  line=${line#=}
  line=$(echo "$line" | tr -d "\"'" | awk '{print $1}')
  echo "${line:-$run_name}"
}

# The newest pending or running job of the user with that name, if any.
training_job() {
  local run_dir=$1 run_name=$2 jobs
  if [ -n "${after[$run_name]:-}" ]; then
    echo "${after[$run_name]}"
    return
  fi
  if ! jobs=$(squeue -h -u "${USER:-$(id -un)}" -t PENDING,RUNNING \
      -n "$(finetune_job_name "$run_dir" "$run_name")" -o %i); then
    echo "warning: squeue failed: cannot look for the fine-tuning job of $run_name" >&2
    return
  fi
  echo "$jobs" | sort -n | tail -n 1
}

report() {
  printf '%-10s %s\n' "$1" "$2"
}

cell() {
  local run_dir=$1 run_name=$2 task=$3 epoch=$4 checkpoint=$5
  local name script eval_dir dependency=() job reason
  if [ "$epoch" = base ]; then name="${task}_base"; else name="${task}_epoch${epoch}"; fi
  script="$run_dir/eval/$name.slurm"
  eval_dir="$EXPERIMENT_DIR/$run_dir/eval"

  selected "$run_name" "${runs[@]}" || selected "$run_dir" "${runs[@]}" || return 0
  selected "$task" "${tasks[@]}" || return 0
  selected "$epoch" "${epochs[@]}" || return 0
  [ -z "${seen[$script]:-}" ] || return 0
  seen[$script]=1

  if [ "$only_missing" -eq 1 ] && finished "$eval_dir/logs" "$name"; then
    report skipped "$script: already has a finished inspect log"
    skipped=$((skipped + 1))
    return 0
  fi

  if [ "$epoch" != base ] && [ ! -d "$checkpoint" ]; then
    job=$(training_job "$run_dir" "$run_name")
    if [ -z "$job" ]; then
      reason="checkpoint $checkpoint does not exist and no pending or running fine-tuning job"
      reason+=" named $(finetune_job_name "$run_dir" "$run_name") was found (use --after $run_name=JOBID)"
      report skipped "$script: $reason"
      skipped=$((skipped + 1))
      return 0
    fi
    dependency=(--dependency="afterok:$job" --kill-on-invalid-dep=yes)
  fi

  if [ "$dry_run" -eq 1 ]; then
    report dry-run "cd $(printf %q "$eval_dir") && sbatch ${dependency[*]:+${dependency[*]} }$name.slurm"
    return 0
  fi
  if job=$(cd "$eval_dir" && sbatch --parsable "${dependency[@]}" "$name.slurm"); then
    job=${job%%;*}
    if [ -n "${dependency[*]}" ]; then
      report chained "$script: job $job, after fine-tuning job ${dependency[0]#*afterok:}"
      chained=$((chained + 1))
    else
      report submitted "$script: job $job"
      submitted=$((submitted + 1))
    fi
  else
    report FAILED "$script: sbatch failed"
    failed=$((failed + 1))
  fi
}

plan
echo "$submitted submitted now, $chained chained to fine-tuning, $skipped skipped, $failed failed"
[ "$failed" -eq 0 ]
