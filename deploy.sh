#!/usr/bin/env bash
# Deploy one environment as a reviewed change set (see README, "Deploying").
#
#   ./deploy.sh ENV                   plan: package, create and review a change set
#   ./deploy.sh ENV --apply           execute the change set recorded by the last plan
#   ./deploy.sh ENV --execute         plan and apply in one run (dev, CI)
#   ... --allow-replace ID            let the data-loss guard pass for resource ID
#                                     (repeat the flag for each: --allow-replace A --allow-replace B)
#   ... other options (--image-tag, --timeout, --newest-nat-image, --promotes-from) go to
#       factorstack plan / execute unchanged: see `.venv/bin/factorstack plan --help`;
#       not --root: the script always deploys the checkout it lives in
#
# Exit codes: 0 done or no changes; 1 AWS, build or deploy failure; 2 configuration or usage
# error, or not ready (no build, stale build, no plan); 3 refused by the data-loss guard.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
factorstack="${here}/.venv/bin/factorstack"

# The comment block above, without its leading "# ".
help_text() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

# Asked for: the help on stdout, exit 0. A usage mistake: the same on stderr, exit 2.
usage() {
  help_text >&2
  exit 2
}
show_help() {
  help_text
  exit 0
}

[[ $# -ge 1 ]] || usage
case "$1" in -h|--help) show_help ;; -*) echo "deploy.sh: ENV comes first" >&2; usage ;; esac
env_name="$1"
shift

# A usage mistake that one line explains: that line on stderr, exit 2.
refuse() {
  echo "deploy.sh: $1" >&2
  exit 2
}

command="plan"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --apply|--execute)
      wanted="${1#--}"
      if [[ "${command}" != "plan" && "${command}" != "${wanted}" ]]; then
        refuse "give --apply or --execute, not both (--apply executes the last plan; --execute plans and applies in one run)"
      fi
      command="${wanted}"
      ;;
    # factorstack would take --root (or an abbreviation of it) after the script's own.
    --r|--ro|--roo|--root|--r=*|--ro=*|--roo=*|--root=*)
      refuse "--root is not accepted: deploy.sh always deploys the checkout it lives in (${here}); run the other checkout's own ./deploy.sh"
      ;;
    -h|--help) show_help ;;
    *) args+=("$1") ;;
  esac
  shift
done

if [[ ! -x "${factorstack}" ]]; then
  echo "deploy.sh: ${factorstack} not found (run \`make templates\` once to create .venv)" >&2
  exit 2
fi

exec "${factorstack}" "${command}" "${env_name}" --root "${here}" ${args[@]+"${args[@]}"}
