# Sourced by test.sh and bench.sh: the Python tools in .venv (moto, cfn-lint, sam), and
# moto's server on a free loopback port with the AWS variables pointing at it.

venv=.venv

# Installs the tools into .venv unless they are there for the current requirements.
ensure_venv() {
  if [ ! -x "$venv/bin/moto_server" ] || ! cmp -s infra/requirements-test.txt "$venv/.requirements"; then
    echo "== installing the test tools into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r infra/requirements-test.txt
    cp infra/requirements-test.txt "$venv/.requirements"
  fi
}

# Starts moto (stopped when the calling script exits), logging to $1, and exports the
# SDK's variables for it.
start_moto() {
  mkdir -p target
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # The request recorder (the bench counts DynamoDB requests with it) writes here, not
  # into the working tree.
  MOTO_RECORDER_FILEPATH="$PWD/target/moto_recording" \
    "$venv/bin/python" infra/moto_server.py -H 127.0.0.1 -p "$port" > "$1" 2>&1 &
  moto_pid=$!
  trap 'kill $moto_pid 2>/dev/null || true' EXIT
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# Waits (bounded) until moto answers.
wait_for_moto() {
  for _ in $(seq 1 300); do
    if python3 -c "import urllib.request; urllib.request.urlopen('$AWS_ENDPOINT_URL/moto-api/')" 2>/dev/null; then
      return 0
    fi
    kill -0 "$moto_pid" 2>/dev/null || { echo "moto exited:"; cat "$1"; return 1; }
    sleep 0.1
  done
  echo "moto did not answer in 30 s"
  return 1
}
