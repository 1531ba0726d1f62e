#!/usr/bin/env bash
# Creates Pitchside's table, queues and secrets in a running LocalStack
# (`docker run --rm -p 4566:4566 localstack/localstack`) and prints the settings for
# the gateway in AWS mode. Needs Docker, so the test suite cannot run it here.
set -euo pipefail
cd "$(dirname "$0")/../.."
export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://localhost:4566}
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
# The secrets: the sample values that the sample events are signed with, unless set.
eval "$(python3 - <<'PY'
import json, os
for k, v in json.load(open("infra/events/sample-env.json"))["values"].items():
    print(f"export {k}={os.environ.get(k, v)!r}")
PY
)"
cargo run -q --release -p pitchside -- aws-bootstrap --table pitchside --queue pitchside-inbound --secrets pitchside
echo "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
