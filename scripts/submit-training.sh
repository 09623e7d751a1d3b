#!/usr/bin/env bash
# Submit a GPU training job to AWS Batch (training/batch-stack.yaml); it runs `python -m training.train`.
#
#   scripts/submit-training.sh --kind handwritten --data s3://BUCKET/datasets/iam/ --epochs 40 \
#       --batch-size 64 --out s3://BUCKET/models [--steps-per-epoch 500] [--learning-rate 0.001] \
#       [--version V] [--promote gate|force|none] [--init-from s3://BUCKET/models/printed/V/model.keras] \
#       [--queue ARN --definition ARN | --stack NAME] [--wait] [--dry-run]
#
# Defaults: data synthetic, epochs 30, batch size 64, 500 steps/epoch, promote gate (latest moves only
# if the new model beats it), version = now (UTC). Queue and job definition: --queue/--definition,
# else $TRAINING_JOB_QUEUE/$TRAINING_JOB_DEFINITION, else the outputs TrainingJobQueueArn and
# TrainingJobDefinitionArn of the CloudFormation stack --stack (default $STACK_NAME, else "ocr").
# --out defaults to that stack's ModelStoreUri output. Checkpoints go to <out>/_checkpoints/<kind>/<job id>,
# so a retried attempt (Spot reclaim) resumes where the last one stopped.
set -euo pipefail

kind=handwritten data=synthetic epochs=30 batch=64 steps=500 lr=0.001 out="" promote=gate init=none
version=$(date -u +%Y.%m.%d-%H%M)
queue=${TRAINING_JOB_QUEUE:-} definition=${TRAINING_JOB_DEFINITION:-} stack=${STACK_NAME:-ocr}
wait=0 dry=0
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --kind) kind=$2; shift ;;
    --data) data=$2; shift ;;
    --epochs) epochs=$2; shift ;;
    --batch-size) batch=$2; shift ;;
    --steps-per-epoch) steps=$2; shift ;;
    --learning-rate) lr=$2; shift ;;
    --out) out=$2; shift ;;
    --version) version=$2; shift ;;
    --promote) promote=$2; shift ;;
    --init-from) init=$2; shift ;;
    --queue) queue=$2; shift ;;
    --definition) definition=$2; shift ;;
    --stack) stack=$2; shift ;;
    --wait) wait=1 ;;
    --dry-run) dry=1 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option $1" >&2; usage ;;
  esac
  shift
done
case $kind in handwritten|printed) ;; *) echo "--kind must be handwritten or printed" >&2; exit 2 ;; esac
case $promote in gate|force|none) ;; *) echo "--promote must be gate, force or none" >&2; exit 2 ;; esac

stack_output() {  # the value of one output of $stack
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
if [ "$dry" = 0 ]; then
  [ -n "$queue" ] || queue=$(stack_output TrainingJobQueueArn)
  [ -n "$definition" ] || definition=$(stack_output TrainingJobDefinitionArn)
  [ -n "$out" ] || out=$(stack_output ModelStoreUri)
fi
: "${queue:=QUEUE}" "${definition:=DEFINITION}" "${out:=s3://BUCKET/models}"

name="ocr-train-$kind-${version//[^A-Za-z0-9_-]/-}"
params=$(python3 -c 'import json, sys; k = sys.argv[1::2]; v = sys.argv[2::2]; print(json.dumps(dict(zip(k, v))))' \
  kind "$kind" data "$data" epochs "$epochs" stepsPerEpoch "$steps" batchSize "$batch" learningRate "$lr" \
  out "$out" version "$version" checkpointUri auto initFrom "$init" promote "$promote")
cmd=(aws batch submit-job --job-name "$name" --job-queue "$queue" --job-definition "$definition"
     --parameters "$params" --query jobId --output text)
if [ "$dry" = 1 ]; then
  printf '%q ' "${cmd[@]}"; echo
  exit 0
fi
job=$("${cmd[@]}")
echo "submitted $name: job $job (model $kind@$version -> $out)"
echo "logs: aws logs tail --follow \$(aws batch describe-jobs --jobs $job --query 'jobs[0].container.logStreamName' --output text)"
if [ "$wait" = 1 ]; then
  while :; do
    status=$(aws batch describe-jobs --jobs "$job" --query 'jobs[0].status' --output text)
    echo "$(date -u +%H:%M:%S) $status"
    case $status in SUCCEEDED) exit 0 ;; FAILED) exit 1 ;; esac
    sleep 60
  done
fi
