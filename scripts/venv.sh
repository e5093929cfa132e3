# Sourced by scripts/quickstart.sh and scripts/test.sh (from the repo root):
# setup_venv EXTRAS creates or reuses .venv and installs torch (pinned to the local CPU build)
# and synth in editable mode with EXTRAS, e.g. setup_venv 'dev,train,embed'.
pip_install() {  # quiet on success; on failure show pip's output (less local-index noise) and stop
  local log; log=$(mktemp)
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2; exit 1
  fi
}

setup_venv() {
  [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
  pip_install torch==2.13.0
  pip_install -e ".[$1]"
}
