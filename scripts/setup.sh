#!/usr/bin/env bash
# The README's first command: sets up a fresh machine and runs the demo.
#   1. checks Node.js (20.10+) and npm;
#   2. installs the npm packages (npm ci; the CPU build of onnxruntime-node unless
#      ONNXRUNTIME_NODE_INSTALL says otherwise);
#   3. builds every package;
#   4. `acereason doctor --fix`: installs nats-server, bubblewrap, python3 and g++ when missing
#      (apt-get on Debian/Ubuntu, through sudo when not root; elsewhere it prints the install line
#      for the platform and stops if a required tool is missing);
#   5. runs `acereason demo` (arguments are passed on, e.g. --quick); --no-demo stops after step 4.
# CI (.ci/run) runs this same script with --no-demo, then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=1
args=()
for a in "$@"; do
  if [ "$a" = "--no-demo" ]; then demo=0; else args+=("$a"); fi
done

say() { printf '\n== %s\n' "$*"; }

node_hint() {
  if [ "$(uname -s)" = "Darwin" ]; then echo "brew install node@20"
  else echo "install Node.js 20 from https://nodejs.org (or your distribution's nodejs >= 20.10 package) with npm"; fi
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: Node.js 20.10+ and npm are needed: $(node_hint)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=10)?0:1)'; then
  echo "setup: Node.js $(node --version) is too old (20.10+ needed): $(node_hint)" >&2
  exit 1
fi

say "npm ci (installing the packages)"
# CPU build of onnxruntime-node unless told otherwise (GPU hosts: ONNXRUNTIME_NODE_INSTALL=cuda12).
ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}" npm ci --no-audit --no-fund

say "npm run build"
npm run build

say "acereason doctor --fix (system tools)"
node packages/cli/bin/acereason.js doctor --fix

if [ "$demo" = 1 ]; then
  say "acereason demo ${args[*]:-}"
  exec node packages/cli/bin/acereason.js demo ${args[@]+"${args[@]}"}
fi
