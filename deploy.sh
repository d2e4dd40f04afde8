#!/usr/bin/env bash
# Deploy one environment as a reviewed change set (see README, "Deploying").
#
#   ./deploy.sh ENV                         plan: package, create and review a change set
#   ./deploy.sh ENV --apply                 execute the change set recorded by the last plan
#   ./deploy.sh ENV --execute               plan and apply in one run (dev, CI)
#   ... [--allow-replace LOGICAL_ID ...]    let the data-loss guard pass for these resources
#
# Exit codes: 0 done or no changes; 1 AWS or deploy failure; 2 usage or configuration error;
# 3 refused by the data-loss guard.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
factorstack="${here}/.venv/bin/factorstack"

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
case "$1" in -h|--help) usage ;; -*) echo "deploy.sh: ENV comes first" >&2; usage ;; esac
env_name="$1"
shift

command="plan"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --apply) command="apply" ;;
    --execute) command="execute" ;;
    -h|--help) usage ;;
    *) args+=("$1") ;;
  esac
  shift
done

if [[ ! -x "${factorstack}" ]]; then
  echo "deploy.sh: ${factorstack} not found (run \`make templates\` once to create .venv)" >&2
  exit 2
fi

exec "${factorstack}" "${command}" "${env_name}" --root "${here}" ${args[@]+"${args[@]}"}
